import net from 'node:net';

const free = (port: number) =>
  new Promise<number | null>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const p = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(p));
    });
  });

/**
 * A free loopback port for a server a test starts itself (an embedded PostgreSQL of its own).
 * NETLEDGER_TEST_PORT_RANGE (`from-to`) keeps them inside a range when several checkouts share
 * the machine; else the kernel picks one.
 */
export async function freePort(): Promise<number> {
  const range = process.env.NETLEDGER_TEST_PORT_RANGE?.match(/^(\d+)-(\d+)$/);
  if (!range) return (await free(0))!;
  const [from, to] = [Number(range[1]), Number(range[2])];
  const start = from + Math.floor(Math.random() * (to - from + 1));
  for (let i = 0; i <= to - from; i++) {
    const port = from + ((start - from + i) % (to - from + 1));
    if ((await free(port)) !== null) return port;
  }
  throw new Error(`no free port in NETLEDGER_TEST_PORT_RANGE ${process.env.NETLEDGER_TEST_PORT_RANGE}`);
}
