/**
 * A chunked upload over a raw socket (no Content-Length), the way an attacker streams a body that
 * no declared size can refuse up front. The client keeps sending until the server answers or
 * `maxBytes` went out; the body is never terminated, so a server that waits for the whole body
 * never answers at all.
 */
import { connect } from "node:net";

export interface ChunkedAnswer {
  /** undefined when the server did not answer within the wait. */
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** Body bytes the client had sent when the first byte of the answer arrived (or in all). */
  sentBeforeAnswer: number;
}

export async function chunkedUpload(
  url: string,
  path: string,
  headers: Record<string, string>,
  options: { maxBytes: number; waitMs?: number },
): Promise<ChunkedAnswer> {
  const { hostname, port } = new URL(url);
  const chunk = Buffer.alloc(16 * 1024, "a".charCodeAt(0));
  const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]);
  return await new Promise<ChunkedAnswer>((resolve) => {
    let sent = 0;
    let sentBeforeAnswer: number | undefined;
    let received = "";
    const socket = connect(Number(port), hostname);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const [head = "", ...rest] = received.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1];
      const parsed: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        if (colon > 0) parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        status: status === undefined ? undefined : Number(status),
        headers: parsed,
        body: rest.join("\r\n\r\n"),
        sentBeforeAnswer: sentBeforeAnswer ?? sent,
      });
    };
    // Whatever happens, the test gets an answer: after the whole upload plus this wait, give up.
    let timer = setTimeout(finish, 60_000);
    const pump = () => {
      while (sentBeforeAnswer === undefined && sent < options.maxBytes) {
        sent += chunk.length;
        if (!socket.write(frame)) {
          socket.once("drain", pump);
          return;
        }
      }
      if (sentBeforeAnswer === undefined) {
        clearTimeout(timer);
        timer = setTimeout(finish, options.waitMs ?? 3_000);
      }
    };
    socket.on("connect", () => {
      const lines = Object.entries({
        ...headers,
        host: `${hostname}:${port}`,
        "transfer-encoding": "chunked",
      })
        .map(([name, value]) => `${name}: ${value}`)
        .join("\r\n");
      socket.write(`POST ${path} HTTP/1.1\r\n${lines}\r\n\r\n`);
      pump();
    });
    socket.on("data", (data) => {
      sentBeforeAnswer ??= sent;
      received += data.toString("latin1");
      // A complete answer: headers and a Content-Length body.
      const end = received.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)/i.exec(received)?.[1];
      if (end >= 0 && (length === undefined || received.length - end - 4 >= Number(length))) finish();
    });
    socket.on("error", () => {});
    socket.on("close", finish);
  });
}
