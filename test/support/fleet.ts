/**
 * examples/platform-fleet for the engine-level suites: the accounts file that program reads, the settings it declares
 * for each account (in the emulator's API shape), and the checks that compare the declared settings, the emulator
 * and the state with each other.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { strict as assert } from "node:assert";
import { FunctionConfig, OptionName, WeChatEmulator, defaultCallbackConfig } from "../emulator/server";
import { StackState } from "../harness";
import { rule, stateMismatches } from "./accounts";
import { AUTHORIZER_OPTION, CALLBACK_CONFIG, ROOT, wechatResources } from "./state";

/** The example program this module describes, and its project name (the namespace of its own config keys). */
export const FLEET_PROGRAM = path.join(ROOT, "examples", "platform-fleet");
export const FLEET_PROJECT = "wechat-platform-fleet";

/** One entry of the accounts list (examples/platform-fleet/index.ts, `FleetAccount`): what it leaves out is unmanaged. */
export interface AccountEntry {
  appId: string;
  locationReport?: 0 | 1 | 2;
  voiceRecognize?: 0 | 1;
  customerService?: 0 | 1;
  cloudbaseEnv?: string;
}

export type FleetEntry = Required<AccountEntry>;

/** The function_config the program declares for an account routed to `cloudbaseEnv` (its two rules, in order). */
export function fleetPush(cloudbaseEnv: string, enable = true): FunctionConfig {
  return {
    enable,
    callbacks: [rule("text", cloudbaseEnv, "wechatPush"), rule("event", cloudbaseEnv, "wechatPush", "user_enter_tempsession")],
  };
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

export function writeAccountsFile(file: string, accounts: readonly AccountEntry[]): void {
  fs.writeFileSync(file, JSON.stringify(accounts, null, 1));
}

/** What the emulator holds for an account, in the shape `mismatches` compares. */
export function snapshot(emulator: WeChatEmulator, appId: string) {
  const push = emulator.callbackConfig(appId);
  return { options: emulator.options(appId), functionConfig: push.function_config, containerConfig: push.container_config };
}
export type AccountSnapshot = ReturnType<typeof snapshot>;

/** The declared settings of an account; the container section is never declared, so it must keep the default. */
export function declared(entry: FleetEntry): AccountSnapshot {
  return {
    options: {
      location_report: String(entry.locationReport),
      voice_recognize: String(entry.voiceRecognize),
      customer_service: String(entry.customerService),
    },
    functionConfig: fleetPush(entry.cloudbaseEnv),
    containerConfig: defaultCallbackConfig().container_config,
  };
}

/** One line per setting of `appId` where `actual` differs from `expected` (4 settings per account). */
export function mismatches(appId: string, expected: AccountSnapshot, actual: AccountSnapshot): string[] {
  const options = (Object.keys(expected.options) as OptionName[]).filter((name) => expected.options[name] !== actual.options[name]);
  const found = options.map((name) => `${appId} ${name}: expected ${expected.options[name]}, holds ${actual.options[name]}`);
  const push = (value: AccountSnapshot) => JSON.stringify({ functionConfig: value.functionConfig, containerConfig: value.containerConfig });
  if (push(expected) !== push(actual)) found.push(`${appId} push: expected ${push(expected)}, holds ${push(actual)}`);
  return found;
}

export function fleetMismatches(emulator: WeChatEmulator, accounts: readonly FleetEntry[]): string[] {
  return accounts.flatMap((entry) => mismatches(entry.appId, declared(entry), snapshot(emulator, entry.appId)));
}

/**
 * Every claim of the state the accounts do not back (stateMismatches), and every container section it claims: the
 * program never declares one.
 */
export function fleetStateMismatches(state: StackState, emulator: WeChatEmulator): string[] {
  const containers = wechatResources(state).filter((r) => r.type === CALLBACK_CONFIG && r.outputs.containerConfig !== undefined);
  return [
    ...stateMismatches(state, emulator),
    ...containers.map((r) => `${r.urn}: state claims a container section the program never declared`),
  ];
}

export function expectedUrns(stack: string, accounts: readonly { appId: string }[]): string[] {
  const urn = (type: string, name: string) => `urn:pulumi:${stack}::${FLEET_PROJECT}::${type}::${name}`;
  return accounts.flatMap((a) => [
    urn(AUTHORIZER_OPTION, `${a.appId}-location_report`),
    urn(AUTHORIZER_OPTION, `${a.appId}-voice_recognize`),
    urn(AUTHORIZER_OPTION, `${a.appId}-customer_service`),
    urn(CALLBACK_CONFIG, `${a.appId}-push`),
  ]);
}

export function assertStateComplete(state: StackState, stack: string, accounts: readonly FleetEntry[]): void {
  const resources = wechatResources(state);
  assert.deepEqual(resources.map((r) => r.urn).sort(), expectedUrns(stack, accounts).sort(), "the state holds each declared resource once");
  const unfinished = resources.filter((r) => r.delete || (r.initErrors && r.initErrors.length > 0)).map((r) => r.urn);
  assert.deepEqual(unfinished, [], "no resource is pending deletion or left with init errors");
}
