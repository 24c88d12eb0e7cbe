// Binding a socket or a listening server: the one wait for a bind or listen
// to succeed or fail (its error rejected, not thrown as an 'error' event),
// and the buffer sizes every datagram socket asks for. Used by the UDP,
// TCP/TLS and WebSocket transports and by the reference server's RTP echo.

import type dgram from 'node:dgram';
import type net from 'node:net';

/** The receive and send buffers a datagram socket asks for: a burst of 1,000 answers (or RTP) must not be dropped by the kernel. */
const DATAGRAM_BUFFER_BYTES = 4 * 1024 * 1024;

export async function bindDatagram(socket: dgram.Socket, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  try {
    socket.setRecvBufferSize(DATAGRAM_BUFFER_BYTES);
    socket.setSendBufferSize(DATAGRAM_BUFFER_BYTES);
  } catch {
    /* the kernel caps it; the default still works */
  }
}

/** Starts `server` listening; resolves with the address it got (port 0 picks a free one). */
export async function listenOn(server: net.Server, port: number, host: string): Promise<net.AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as net.AddressInfo;
}
