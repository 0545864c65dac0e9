/**
 * A platform fleet for the engine-level suites: the accounts file that examples/platform-fleet reads, the settings
 * that program declares for each account (in the emulator's API shape), and the checks that compare the declared
 * settings, the emulator and the harness's state file with each other.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { strict as assert } from "node:assert";
import { CallbackRule, FunctionConfig, OptionName, WeChatEmulator, defaultCallbackConfig } from "../emulator/server";
import { ResourceState, StackState } from "../harness";

/** The example program this module describes, and its project name (the namespace of its own config keys). */
export const FLEET_PROGRAM = path.resolve(__dirname, "..", "..", "..", "examples", "platform-fleet");
export const FLEET_PROJECT = "wechat-platform-fleet";

export const AUTHORIZER_OPTION = "pulumi-nodejs:dynamic/wechat:AuthorizerOption";
export const CALLBACK_CONFIG = "pulumi-nodejs:dynamic/wechat:CallbackConfig";

/** One entry of the accounts file (examples/platform-fleet/index.ts, `FleetAccount`). */
export interface FleetEntry {
  appId: string;
  locationReport: 0 | 1 | 2;
  voiceRecognize: 0 | 1;
  customerService: 0 | 1;
  cloudbaseEnv: string;
}

/**
 * The settings of round `round`: every account gets all three options and a push configuration, and every setting of
 * every account differs from the previous round's, so each round changes all four resources of every account.
 */
export function declareFleet(appIds: readonly string[], round: number): FleetEntry[] {
  return appIds.map((appId, i) => ({
    appId,
    locationReport: ((i + round) % 3) as 0 | 1 | 2,
    voiceRecognize: ((i + round) % 2) as 0 | 1,
    customerService: ((i + round + 1) % 2) as 0 | 1,
    cloudbaseEnv: `fleet-r${round}-${(i % 7).toString(36)}`,
  }));
}

export function writeAccountsFile(file: string, accounts: readonly FleetEntry[]): void {
  fs.writeFileSync(file, JSON.stringify(accounts, null, 1));
}

/** The three options as the program declares them, in the API's string form. */
export function declaredOptions(entry: FleetEntry): Record<OptionName, string> {
  return {
    location_report: String(entry.locationReport),
    voice_recognize: String(entry.voiceRecognize),
    customer_service: String(entry.customerService),
  };
}

/** The function_config the program declares for an account (its two routing rules, in the program's order). */
export function declaredFunctionConfig(entry: FleetEntry): FunctionConfig {
  const rule = (msgType: string, event: string): CallbackRule => ({
    msgType,
    event,
    env: entry.cloudbaseEnv,
    functionName: "wechatPush",
    enable: true,
  });
  return { enable: true, callbacks: [rule("text", ""), rule("event", "user_enter_tempsession")] };
}

/** What the emulator holds for an account, in the shape `mismatches` compares. */
export interface AccountSnapshot {
  options: Record<OptionName, string>;
  functionConfig: FunctionConfig;
  containerConfig: ReturnType<typeof defaultCallbackConfig>["container_config"];
}

export function snapshot(emulator: WeChatEmulator, appId: string): AccountSnapshot {
  const push = emulator.callbackConfig(appId);
  return { options: emulator.options(appId), functionConfig: push.function_config, containerConfig: push.container_config };
}

/** The declared settings of an account; the container section is never declared, so it must keep the default. */
export function declared(entry: FleetEntry): AccountSnapshot {
  return {
    options: declaredOptions(entry),
    functionConfig: declaredFunctionConfig(entry),
    containerConfig: defaultCallbackConfig().container_config,
  };
}

/** One line per setting of `appId` where `actual` differs from `expected` (4 settings per account). */
export function mismatches(appId: string, expected: AccountSnapshot, actual: AccountSnapshot): string[] {
  const found: string[] = [];
  for (const name of Object.keys(expected.options) as OptionName[]) {
    if (expected.options[name] !== actual.options[name])
      found.push(`${appId} ${name}: expected ${expected.options[name]}, holds ${actual.options[name]}`);
  }
  const push = (value: AccountSnapshot) => JSON.stringify({ functionConfig: value.functionConfig, containerConfig: value.containerConfig });
  if (push(expected) !== push(actual)) found.push(`${appId} push: expected ${push(expected)}, holds ${push(actual)}`);
  return found;
}

/** Every setting of every account that the emulator does not hold as declared. */
export function fleetMismatches(emulator: WeChatEmulator, accounts: readonly FleetEntry[]): string[] {
  return accounts.flatMap((entry) => mismatches(entry.appId, declared(entry), snapshot(emulator, entry.appId)));
}

/** Callbacks compared as a set keyed by message type and event, as the provider's diff compares them. */
function canonicalCallbacks(callbacks: readonly CallbackRule[]): string {
  return JSON.stringify(
    callbacks
      .map((c) => ({ msgType: c.msgType, event: c.event ?? "", env: c.env, functionName: c.functionName, enable: c.enable }))
      .sort((a, b) => `${a.msgType}/${a.event}`.localeCompare(`${b.msgType}/${b.event}`)),
  );
}

export function wechatResources(state: StackState): ResourceState[] {
  return state.resources.filter((r) => r.type === AUTHORIZER_OPTION || r.type === CALLBACK_CONFIG);
}

/**
 * Every claim of the state that the account does not back: for each resource in the state, the value its outputs
 * say the account holds, against what the emulator holds. A resource pending deletion counts as a claim too.
 */
export function stateMismatches(state: StackState, emulator: WeChatEmulator): string[] {
  const found: string[] = [];
  for (const r of wechatResources(state)) {
    const outputs = r.outputs as {
      authorizerAppId?: string;
      optionName?: OptionName;
      optionValue?: string;
      functionConfig?: { enable: boolean; callbacks: CallbackRule[] };
      containerConfig?: unknown;
    };
    const appId = String(outputs.authorizerAppId);
    if (r.type === AUTHORIZER_OPTION) {
      const holds = emulator.options(appId)[outputs.optionName as OptionName];
      if (holds !== outputs.optionValue) found.push(`${r.urn}: state says ${outputs.optionValue}, account holds ${holds}`);
    } else {
      const holds = emulator.callbackConfig(appId);
      const claimed = outputs.functionConfig;
      if (
        !claimed ||
        claimed.enable !== holds.function_config.enable ||
        canonicalCallbacks(claimed.callbacks) !== canonicalCallbacks(holds.function_config.callbacks)
      ) {
        found.push(`${r.urn}: state says ${JSON.stringify(claimed)}, account holds ${JSON.stringify(holds.function_config)}`);
      }
      if (outputs.containerConfig !== undefined) found.push(`${r.urn}: state claims a container section the program never declared`);
    }
  }
  return found;
}

/** The resources the program declares for the accounts, by URN, with the value each must hold. */
export function expectedUrns(stack: string, accounts: readonly FleetEntry[]): string[] {
  const urn = (type: string, name: string) => `urn:pulumi:${stack}::${FLEET_PROJECT}::${type}::${name}`;
  return accounts.flatMap((a) => [
    urn(AUTHORIZER_OPTION, `${a.appId}-location_report`),
    urn(AUTHORIZER_OPTION, `${a.appId}-voice_recognize`),
    urn(AUTHORIZER_OPTION, `${a.appId}-customer_service`),
    urn(CALLBACK_CONFIG, `${a.appId}-push`),
  ]);
}

/** The state holds exactly the program's resources, each once, none half-made or pending deletion. */
export function assertStateComplete(state: StackState, stack: string, accounts: readonly FleetEntry[]): void {
  const resources = wechatResources(state);
  assert.deepEqual(resources.map((r) => r.urn).sort(), expectedUrns(stack, accounts).sort(), "the state holds each declared resource once");
  const unfinished = resources.filter((r) => r.delete || (r.initErrors && r.initErrors.length > 0)).map((r) => r.urn);
  assert.deepEqual(unfinished, [], "no resource is pending deletion or left with init errors");
}

// ---- processes -------------------------------------------------------------------------------------------------

/** The parent pid and state of a process from /proc, or undefined once it is gone. */
function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
    const [state, ppid] = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(ppid), state };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `pid` (Linux /proc). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), Number(name)]);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Waits until none of `pids` runs any more (zombies count as gone); answers those still running at the deadline. */
export async function waitForExit(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const running = () =>
    pids.filter((pid) => {
      const stat = procStat(pid);
      return stat !== undefined && stat.state !== "Z";
    });
  const deadline = Date.now() + timeoutMs;
  while (running().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return running();
}
