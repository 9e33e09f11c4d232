// The floors the broker's data path is measured against: the least a Node program can do to move
// the same bytes, in its own process so its CPU time is counted alone.
//   append <dir>             accept connections; append everything received to a file per
//                            connection (page cache), as a produce path must at least do
//   serve <file> <bytes>     accept connections; send the file from the page cache over and over
//                            until <bytes> are sent, then end, as a fetch path must at least do
// Prints {"port": N} on stdout once listening; stops on SIGTERM.
import { createReadStream, createWriteStream } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const [mode, target, limit] = process.argv.slice(2);
let connections = 0;

async function append(socket: Socket): Promise<void> {
  await pipeline(socket, createWriteStream(join(target!, `connection-${++connections}.log`), { flags: 'a' }));
}

async function serve(socket: Socket): Promise<void> {
  const total = Number(limit);
  let sent = 0;
  while (sent < total) {
    for await (const chunk of createReadStream(target!, { highWaterMark: 1024 * 1024, end: total - sent - 1 })) {
      sent += (chunk as Buffer).length;
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
  }
  socket.end();
}

if (mode !== 'append' && mode !== 'serve') throw new TypeError(`usage: floor-process.ts append <dir> | serve <file> <bytes>`);
const server = createServer((socket) => {
  socket.on('error', () => socket.destroy());
  (mode === 'append' ? append(socket) : serve(socket)).catch(() => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
