/**
 * The WeChat API emulator in a process of its own, so that its CPU is never shared with the process being measured.
 * Requests: { op: "reset", latencyMs } (options back to "0", tokens forgotten, counters cleared, latency set) and
 * { op: "seen" } (the calls by kind since the reset, and the emulator's CPU time then and now).
 */
import { CallCounts, WeChatEmulator } from "../test/emulator/server";
import { Child, serve } from "./child";
import { Account, credentials } from "./fleet";

/** What the emulator saw since the last reset: calls by kind, and its own CPU time. */
export interface Seen {
  calls: CallCounts;
  emulatorCpuMs: number;
}

export class EmulatorProcess {
  private cpuAtReset = 0;

  private constructor(
    private readonly child: Child,
    readonly baseUrl: string,
    readonly accounts: Account[],
  ) {}

  static async start(accounts: number): Promise<EmulatorProcess> {
    const child = await Child.start(__filename, [String(accounts)]);
    return new EmulatorProcess(child, child.ready.baseUrl as string, child.ready.accounts as Account[]);
  }

  async reset(latencyMs: number): Promise<void> {
    this.cpuAtReset = (await this.child.ask<{ cpuMs: number }>({ op: "reset", latencyMs })).cpuMs;
  }

  async seen(): Promise<Seen> {
    const { calls, cpuMs } = await this.child.ask<{ calls: CallCounts; cpuMs: number }>({ op: "seen" });
    return { calls, emulatorCpuMs: cpuMs - this.cpuAtReset };
  }

  stop = () => this.child.stop();
}

async function main(accounts: number): Promise<void> {
  const emulator = new WeChatEmulator({ logRequests: false });
  const c = credentials([]);
  emulator.addPlatform({
    componentAppId: c.componentAppId,
    componentAppSecret: c.componentAppSecret,
    verifyTicket: c.componentVerifyTicket,
  });
  const fleet = emulator.addFleet(c.componentAppId, accounts).map((a) => ({ appId: a.appId, refreshToken: a.refreshToken }));
  const cpuMs = () => (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  const handle = (request: Record<string, unknown>) => {
    if (request.op === "reset") {
      emulator.reset({ tokens: true });
      emulator.setLatency(Number(request.latencyMs));
    }
    return { calls: emulator.callCounts(), cpuMs: cpuMs() };
  };
  serve({ baseUrl: await emulator.start(), accounts: fleet }, handle, () => emulator.stop());
}

if (require.main === module) void main(Number(process.argv[2]));
