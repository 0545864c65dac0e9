/**
 * The WeChat API emulator in a process of its own, so that its CPU is never shared with the process being measured
 * (the got floor, the gRPC driver). The parent talks to it over the IPC channel of `child_process.fork`.
 *
 * Messages in: { id, op: "latency", ms } | { id, op: "reset" } | { id, op: "counts" } | { id, op: "stop" }.
 * Every message is answered with { id, ... }. The first message out is { ready: baseUrl, accounts }.
 */
import { DEMO_CREDENTIALS, WeChatEmulator } from "../test/emulator/server";

interface Request {
  id: number;
  op: "latency" | "reset" | "counts" | "stop";
  ms?: number;
}

async function main(): Promise<void> {
  const accounts = Number(process.argv[2]);
  if (!Number.isInteger(accounts) || accounts < 1 || accounts > 100000) throw new Error("usage: emulatorProcess ACCOUNTS");
  // No request log: a benchmark of thousands of calls needs only the counters.
  const emulator = new WeChatEmulator({ logRequests: false });
  emulator.addPlatform({
    componentAppId: DEMO_CREDENTIALS.componentAppId,
    componentAppSecret: DEMO_CREDENTIALS.componentAppSecret,
    verifyTicket: DEMO_CREDENTIALS.componentVerifyTicket,
  });
  const fleet = emulator.addFleet(DEMO_CREDENTIALS.componentAppId, accounts);
  const baseUrl = await emulator.start();
  process.on("message", (message: Request) => {
    const answer = (body: Record<string, unknown>) => process.send!({ id: message.id, ...body });
    switch (message.op) {
      case "latency":
        emulator.setLatency(message.ms ?? 0);
        answer({ ok: true });
        break;
      case "reset":
        // Options back to their defaults and every token forgotten: each scenario starts from the same account state.
        emulator.reset({ tokens: true });
        answer({ ok: true });
        break;
      case "counts":
        answer({ counts: emulator.callCounts(), cpu: process.cpuUsage() });
        break;
      case "stop":
        void emulator.stop().then(() => {
          answer({ ok: true });
          process.disconnect();
        });
        break;
    }
  });
  // Bounded life: if the parent goes away, so does the emulator.
  process.on("disconnect", () => void emulator.stop().then(() => process.exit(0)));
  process.send!({ ready: baseUrl, accounts: fleet.map((a) => ({ appId: a.appId, refreshToken: a.refreshToken })) });
}

main().catch((error: Error) => {
  process.stderr.write(`bench emulator: ${error.message}\n`);
  process.exit(1);
});
