/**
 * The floor in a fresh process of its own, as cold as the provider host it is compared with: every `pulumi up`
 * starts a new host, whose got and V8 code paths start unoptimized, so the floor's must too. The parent sends one
 * { floor: FloorArgs } message; the child answers with the FloorResult and exits. got is loaded before the message
 * arrives, as the provider host has loaded its modules before the timed calls.
 */
import { fork } from "node:child_process";
import { Account, Setting } from "./fleet";
import { FloorMode, FloorResult, runFloor } from "./floor";

interface FloorArgs {
  baseUrl: string;
  mode: FloorMode;
  settings: Setting[];
  accounts: Account[];
  concurrency: number;
}

/** Runs the floor in a new process and resolves with what it measured. */
export function runFloorProcess(args: FloorArgs): Promise<FloorResult> {
  const child = fork(__filename, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    let result: FloorResult | undefined;
    child.once("error", reject);
    child.on("message", (message: { ready?: boolean } & Partial<FloorResult> & { error?: string }) => {
      if (message.ready) child.send({ floor: args });
      else if (message.error) reject(new Error(`floor: ${message.error}`));
      else result = message as FloorResult;
    });
    child.once("exit", (code) => (result ? resolve(result) : reject(new Error(`the floor process exited (${code}) without a result`))));
  });
}

if (require.main === module) {
  process.once("message", (message: { floor: FloorArgs }) => {
    const { baseUrl, mode, settings, accounts, concurrency } = message.floor;
    runFloor(baseUrl, mode, settings, accounts, concurrency).then(
      (result) => process.send!(result, () => process.disconnect()),
      (error: Error) => process.send!({ error: error.message }, () => process.disconnect()),
    );
  });
  process.send!({ ready: true });
}
