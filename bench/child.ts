/**
 * A forked child process asked by message, the one way the bench talks to its own processes (the emulator, the
 * floor): the child's first message says it is ready; each request { id, ... } is answered with { id, ... } or
 * { id, error }. A child ends when the parent disconnects (or goes away).
 */
import { ChildProcess, fork } from "node:child_process";

type Message = Record<string, unknown>;

export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: Message,
  ) {
    child.on("message", (m: Message) => {
      const waiting = this.pending.get(m.id as number);
      this.pending.delete(m.id as number);
      if (m.error) waiting?.reject(new Error(String(m.error)));
      else waiting?.resolve(m);
    });
    child.once("exit", (code) => this.pending.forEach((p) => p.reject(new Error(`a bench process exited (${code})`))));
  }

  static start(file: string, args: string[] = []): Promise<Child> {
    const child = fork(file, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    return new Promise((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
      child.once("message", (ready: Message) => resolve(new Child(child, ready)));
    });
  }

  ask<T>(request: Message): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (m: Message) => void, reject });
      this.child.send({ ...request, id });
    });
  }

  /** Disconnects, and kills the child if it has not exited within 3 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.disconnect();
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

/** In the child: says `ready`, then answers each request with what `handle` resolves to; `onEnd` runs on disconnect. */
export function serve(ready: Message, handle: (request: Message) => Promise<Message> | Message, onEnd?: () => Promise<void>): void {
  process.on("message", (request: Message) =>
    Promise.resolve()
      .then(() => handle(request))
      .then(
        (answer) => process.send!({ ...answer, id: request.id }),
        (error: Error) => process.send!({ id: request.id, error: error.message }),
      ),
  );
  process.on("disconnect", () => void (onEnd ?? (async () => undefined))().then(() => process.exit(0)));
  process.send!(ready);
}
