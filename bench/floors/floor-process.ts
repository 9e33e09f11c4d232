// The floors the broker's data path is measured against: the least a Node program can do to move
// the same bytes, in its own process so its CPU time is counted alone.
//   append <dir>             accept connections; append everything received to a file per
//                            connection (page cache), as a produce path must at least do
//   serve <file> <bytes>     accept connections; send the file from the page cache over and over
//                            until <bytes> are sent, then end, as a fetch path must at least do
// Prints {"port": N} on stdout once listening; stops on SIGTERM.
//
// Why these are the floors (each variant measured on this machine, CPU s/GB, same run):
// - append: the socket's chunks (64 KiB reads by libuv) are gathered for one event-loop turn and
//   written with synchronous writes on setImmediate, which runs after the poll phase has
//   delivered everything readable. The socket is never paused. A thread-pool write (fs.writev
//   with a callback, or an fs.WriteStream) costs a hand-off and a wake-up of the main thread per
//   write, more than the page-cache copy itself: piping into a WriteStream measured 2.6-2.9
//   s/GB (its 16 KiB highWaterMark pauses the socket every chunk), async writev of what
//   gathered while the last write was out 1.2-2.8, a writeSync as each chunk arrives 1.4-1.8,
//   one writevSync of the turn's chunks 1.9-2.8, a writeSync per chunk at the turn's end (this)
//   1.2-1.6, against 0.55-0.9 for receiving and discarding (load average 5-8).
// - serve: 1 MiB fs.read into a fresh buffer, written to the socket, the next read started at
//   once unless the socket's buffer is over its mark (then on 'drain'). Measured 0.65-0.80 s/GB,
//   against 0.74-0.89 for a 1 MiB createReadStream loop, 0.94-1.42 for synchronous reads and
//   0.76-1.34 for reusing two buffers (waiting for each write's callback).
import { closeSync, fstatSync, openSync, read, writeSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';

const [mode, target, limit] = process.argv.slice(2);
const READ_SIZE = 1024 * 1024;
let connections = 0;

function append(socket: Socket): void {
  const fd = openSync(join(target!, `connection-${++connections}.log`), 'a');
  let gathered: Buffer[] = [];
  let scheduled = false;
  let open = true;
  const write = (): void => {
    scheduled = false;
    const bufs = gathered;
    gathered = [];
    for (const buf of bufs) {
      // A short write (rare on a regular file): carry on from where it stopped.
      for (let at = 0; at < buf.length; ) at += writeSync(fd, buf, at);
    }
  };
  const finish = (): void => {
    if (!open) return;
    write();
    open = false;
    closeSync(fd);
  };
  socket.on('data', (chunk: Buffer) => {
    gathered.push(chunk);
    if (!scheduled) {
      scheduled = true;
      setImmediate(write);
    }
  });
  socket.on('end', () => {
    finish();
    socket.end();
  });
  socket.on('close', finish);
}

function serve(socket: Socket): void {
  const total = Number(limit);
  const fd = openSync(target!, 'r');
  const fileSize = fstatSync(fd).size;
  let sent = 0;
  let position = 0;
  const next = (): void => {
    if (socket.destroyed) return closeSync(fd);
    if (sent >= total) {
      closeSync(fd);
      socket.end();
      return;
    }
    const want = Math.min(READ_SIZE, total - sent, fileSize - position);
    const buf = Buffer.allocUnsafe(want);
    read(fd, buf, 0, want, position, (err, n) => {
      if (err || n === 0) {
        closeSync(fd);
        socket.destroy();
        return;
      }
      position = (position + n) % fileSize;
      sent += n;
      if (socket.write(n === want ? buf : buf.subarray(0, n))) next();
      else socket.once('drain', next);
    });
  };
  next();
}

if (mode !== 'append' && mode !== 'serve') throw new TypeError(`usage: floor-process.ts append <dir> | serve <file> <bytes>`);
const server = createServer((socket) => {
  socket.on('error', () => socket.destroy());
  try {
    if (mode === 'append') append(socket);
    else serve(socket);
  } catch {
    socket.destroy();
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
