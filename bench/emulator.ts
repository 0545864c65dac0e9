/**
 * The workload, N AuthorizerOption settings over ceil(N/3) accounts of the demo platform, and the emulator in a
 * process of its own, so that its CPU is never shared with the process measured.
 */
import { fork } from "node:child_process";
import { CallCounts, OptionName, WeChatEmulator } from "../test/emulator/server";
import { DEMO_CREDENTIALS, platformCredentials } from "../test/support/emulator";
import { AccountEntry } from "../test/support/fleet";

/** Every option starts at "0" on the emulator, so setting "1" always sends a set. */
export const TARGET_VALUE = "1";
/** Each option, and the key the example program (examples/platform-fleet) reads for it. */
const OPTIONS = { location_report: "locationReport", voice_recognize: "voiceRecognize", customer_service: "customerService" } as const;

export const accountsFor = (n: number) => Math.ceil(n / 3);

/** An emulator with the demo platform and the accounts of n settings (the same fleet in every emulator). */
function emulatorFor(n: number) {
  const emulator = new WeChatEmulator({ logRequests: false });
  emulator.addDemo();
  return { emulator, fleet: emulator.addFleet(DEMO_CREDENTIALS.componentAppId, accountsFor(n)) };
}

/** The n settings, account by account (as the program declares them): three per account, the last one maybe fewer. */
export function settingsFor(n: number) {
  const { fleet } = emulatorFor(n);
  const names = Object.keys(OPTIONS) as OptionName[];
  return Array.from({ length: n }, (_, i) => ({ ...fleet[Math.floor(i / 3)], optionName: names[i % 3] }));
}

/** The accounts file the example program reads (`accountsFile`) for the same n settings. */
export function accountEntries(n: number): AccountEntry[] {
  const entries = new Map<string, AccountEntry>();
  for (const { appId, optionName } of settingsFor(n)) entries.set(appId, { ...entries.get(appId), appId, [OPTIONS[optionName]]: 1 });
  return [...entries.values()];
}

/** The stack configuration and secrets for the n settings' accounts, as the tests build them. */
export const stackFor = (baseUrl: string, n: number, concurrency: number) =>
  platformCredentials(baseUrl, emulatorFor(n).fleet, { "wechat:maxConcurrency": String(concurrency) });

export async function startEmulator(n: number) {
  const child = fork(__filename, [String(n)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  child.once("exit", (code) => {
    throw new Error(`the emulator process exited (${code})`); // the bench cannot go on without it
  });
  const baseUrl = await new Promise<string>((resolve) => child.once("message", resolve));
  /** The calls by kind and its own CPU time since its last reset; with `latencyMs`, after a reset to that latency. */
  const ask = (latencyMs?: number) =>
    new Promise<{ calls: CallCounts; cpuMs: number }>((resolve) => {
      child.once("message", resolve);
      child.send({ latencyMs });
    });
  return { baseUrl, ask, stop: () => child.removeAllListeners("exit").kill() };
}

/** In the emulator's process: answers each request with what it has seen, after a reset if it asks for one. */
async function serve(n: number): Promise<void> {
  const { emulator } = emulatorFor(n);
  const cpuMs = ({ user, system } = process.cpuUsage()) => (user + system) / 1000;
  let cpuAtReset = cpuMs();
  process.on("message", ({ latencyMs }: { latencyMs?: number }) => {
    if (latencyMs !== undefined) {
      emulator.reset({ tokens: true });
      emulator.setLatency(latencyMs);
      cpuAtReset = cpuMs();
    }
    process.send!({ calls: emulator.callCounts(), cpuMs: cpuMs() - cpuAtReset });
  });
  process.on("disconnect", () => process.exit(0)); // the bench has gone
  process.send!(await emulator.start());
}

if (require.main === module) void serve(Number(process.argv[2]));
