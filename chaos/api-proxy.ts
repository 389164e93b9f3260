import { once } from "node:events";
import { createServer, Socket, type Server } from "node:net";

/**
 * A loopback TCP proxy in front of the emulator, one per replica process, so
 * that every Bot API request can be attributed to the process that sent it
 * (the emulator's records do not say which client a request came from).
 * Bytes pass through untouched; a client that disconnects disconnects
 * upstream too, so the emulator sees exactly what it would see directly.
 * Only method names and times are kept, never the path (it holds the token).
 */
export class ApiProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #sockets: Set<Socket>;

  private constructor(server: Server, port: number, sockets: Set<Socket>) {
    this.#server = server;
    this.port = port;
    this.#sockets = sockets;
  }

  /** `onRequest(method, at)` is called when a request line reaches the proxy; `at` is epoch ms on the monotonic clock. */
  static async start(targetPort: number, onRequest: (method: string, at: number) => void): Promise<ApiProxy> {
    const sockets = new Set<Socket>();
    const track = (socket: Socket): void => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    };
    const server = createServer((client) => {
      const upstream = new Socket();
      track(client);
      track(upstream);
      const requests = new RequestLineScanner(onRequest);
      upstream.connect(targetPort, "127.0.0.1");
      client.on("data", (chunk: Buffer) => {
        requests.scan(chunk);
        upstream.write(chunk);
      });
      upstream.on("data", (chunk: Buffer) => client.write(chunk));
      const closeBoth = (): void => {
        client.destroy();
        upstream.destroy();
      };
      for (const socket of [client, upstream]) {
        socket.on("end", closeBoth);
        socket.on("close", closeBoth);
        socket.on("error", closeBoth);
      }
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("the proxy has no port");
    return new ApiProxy(server, address.port, sockets);
  }

  /** Stops accepting connections and drops the ones open. */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = once(this.#server, "close");
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }
}

const REQUEST_LINE = /(?:GET|POST) \/bot[^\s/]*\/(?:test\/)?([A-Za-z]+) HTTP\/1\.[01]\r\n/g;
/** Longer than any request line the frameworks send; what is kept between chunks. */
const CARRY = 512;

/** Finds request lines in one connection's client-to-server bytes, across chunk boundaries. */
class RequestLineScanner {
  readonly #onRequest: (method: string, at: number) => void;
  #carry = "";

  constructor(onRequest: (method: string, at: number) => void) {
    this.#onRequest = onRequest;
  }

  scan(chunk: Buffer): void {
    const text = this.#carry + chunk.toString("latin1");
    const at = performance.timeOrigin + performance.now();
    let consumed = 0;
    for (const match of text.matchAll(REQUEST_LINE)) {
      this.#onRequest(match[1]!, at);
      consumed = match.index + match[0].length;
    }
    this.#carry = text.slice(Math.max(consumed, text.length - CARRY));
  }
}
