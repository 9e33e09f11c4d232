// Debian's Python client packages are used through the system interpreter, whatever python3
// comes first on PATH (a pyenv shim, say, would not see them).
import { run } from './child-json.ts';

export const PYTHON = '/usr/bin/python3';

/**
 * The version of a Python module as `expression` computes it (with the module imported), or why
 * it cannot be used: the Debian package to install.
 */
export async function pythonModuleVersion(module: string, expression: string, debianPackage: string): Promise<{ version: string } | { unavailable: string }> {
  try {
    const r = await run(PYTHON, ['-c', `import ${module}; print(${expression})`], { timeoutMs: 15_000 });
    if (r.code === 0) return { version: r.stdout.trim() };
    return { unavailable: `${module} does not import with ${PYTHON} (apt-get install ${debianPackage}): ${r.stderr.trim().split('\n').pop() ?? ''}` };
  } catch (err) {
    return { unavailable: `${PYTHON} cannot run: ${String(err)}` };
  }
}
