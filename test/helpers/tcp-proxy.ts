import { once } from "node:events";
import { createServer, Socket, type Server } from "node:net";

/** Rewrites one direction of a proxied connection; gets each chunk, returns what to forward. */
export type ChunkTransform = (chunk: Buffer) => Buffer;

/** Per-connection transforms; a fresh pair is made for every accepted connection. */
export interface ProxyTransforms {
  readonly toServer?: ChunkTransform;
  readonly toClient?: ChunkTransform;
}

/**
 * A TCP proxy on 127.0.0.1 in front of `targetPort`, that a test can cut:
 * `cut()` destroys every proxied connection and refuses new ones until
 * `restore()`, like a network partition that resets connections.
 */
export class TcpProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(targetPort: number, makeTransforms: () => ProxyTransforms = () => ({})): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (!proxy || proxy.#cut) {
        client.destroy();
        return;
      }
      const upstream = new Socket();
      const { toServer, toClient } = makeTransforms();
      proxy.#track(client);
      proxy.#track(upstream);
      upstream.connect(targetPort, "127.0.0.1");
      client.on("data", (chunk: Buffer) => upstream.write(toServer ? toServer(chunk) : chunk));
      upstream.on("data", (chunk: Buffer) => client.write(toClient ? toClient(chunk) : chunk));
      const closeBoth = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on("close", closeBoth);
      upstream.on("close", closeBoth);
      client.on("error", closeBoth);
      upstream.on("error", closeBoth);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("no port");
    proxy = new TcpProxy(server, address.port);
    return proxy;
  }

  /** How many connections (client side and upstream side) are open now. */
  get openSockets(): number {
    return this.#sockets.size;
  }

  /** Resets every proxied connection and refuses new ones. */
  cut(): void {
    this.#cut = true;
    for (const socket of this.#sockets) {
      // A socket still connecting has no TCP handle to reset yet.
      if (socket.pending) socket.destroy();
      else socket.resetAndDestroy();
    }
  }

  /** Accepts connections again after {@link cut}. */
  restore(): void {
    this.#cut = false;
  }

  async close(): Promise<void> {
    this.cut();
    this.#server.close();
    await once(this.#server, "close");
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
  }
}
