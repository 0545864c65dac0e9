/**
 * Preloaded (`node --require`) into the program runtime and the provider host that the harness starts: when the
 * harness goes away, even by SIGKILL, the pipe on the child's stdin closes and the child exits, so no orphan keeps a
 * provider (or a half-run program) alive. The handle is unref'd: it never keeps a finished program from exiting.
 */
const stdin = process.stdin as NodeJS.ReadStream & { unref?: () => void };
if (!stdin.isTTY) {
  stdin.on("end", () => process.exit(1));
  stdin.on("error", () => process.exit(1));
  stdin.on("data", () => undefined);
  stdin.unref?.();
}
