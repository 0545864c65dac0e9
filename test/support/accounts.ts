/** What the emulator's accounts hold, against what steps declared (ExpectedAccounts) and a state claims. */
import { strict as assert } from "node:assert";
import { isDeepStrictEqual } from "node:util";
import { AuthorizerOptions, CallbackConfigData, OptionName, WeChatEmulator } from "../emulator/server";
import { StackState } from "../harness";
import { AUTHORIZER_OPTION, wechatResources } from "./state";

/** A callback rule as the API (and the emulator) holds it. */
export const rule = (msgType: string, env: string, functionName: string, event = "", enable = true) => ({
  msgType,
  event,
  env,
  functionName,
  enable,
});

/** A callback config as the account holds it, in the package's shape (what CallbackConfig outputs hold). */
export function sectionsOf(data: CallbackConfigData) {
  const { function_config: fc, container_config: cc } = data;
  return {
    functionConfig: {
      enable: fc.enable,
      callbacks: fc.callbacks.map(({ msgType, event, env, functionName, enable }) => ({ msgType, event, env, functionName, enable })),
    },
    containerConfig: { enable: cc.enable, qbaseEnv: cc.qbase_env, qbaseContainerPath: cc.qbase_container_path, textMode: cc.text_mode },
  };
}

/** One line per claim of the state the accounts do not back, resources pending deletion or unfinished included. */
export function stateMismatches(state: StackState | undefined, emulator: WeChatEmulator): string[] {
  const found: string[] = [];
  for (const r of wechatResources(state)) {
    const outputs = r.outputs as Record<string, unknown> & { authorizerAppId: string; optionName: OptionName; optionValue: string };
    if (r.type === AUTHORIZER_OPTION) {
      const holds = emulator.options(outputs.authorizerAppId)[outputs.optionName];
      if (holds !== outputs.optionValue)
        found.push(`${r.urn}: state says ${outputs.optionName}=${outputs.optionValue}, account holds ${holds}`);
      continue;
    }
    const holds = sectionsOf(emulator.callbackConfig(outputs.authorizerAppId));
    for (const section of ["functionConfig", "containerConfig"] as const) {
      if (outputs[section] === undefined || isDeepStrictEqual(outputs[section], holds[section])) continue;
      found.push(`${r.urn}: state's ${section} is ${JSON.stringify(outputs[section])}, account holds ${JSON.stringify(holds[section])}`);
    }
  }
  return found;
}

export function assertStateMatchesAccounts(state: StackState | undefined, emulator: WeChatEmulator): void {
  assert.deepEqual(stateMismatches(state, emulator), [], "the state claims what the accounts do not hold");
}

type HeldAccounts = ReturnType<WeChatEmulator["state"]>["accounts"];

/**
 * A model of every account in the emulator: it starts as what the emulator holds, a step states what it changes, and
 * check() asserts that the emulator holds exactly the model: the declared settings, and nothing touched elsewhere.
 */
export class ExpectedAccounts {
  private readonly accounts: HeldAccounts;

  constructor(private readonly emulator: WeChatEmulator) {
    this.accounts = emulator.state().accounts;
  }

  /** The account's options become these values (the others stay as they are). */
  options(appId: string, values: Partial<AuthorizerOptions>): this {
    Object.assign(this.account(appId).options, values);
    return this;
  }

  /** The account's callback config sections become these (a section left out stays as it is). */
  callbackConfig(appId: string, sections: Partial<CallbackConfigData>): this {
    Object.assign(this.account(appId).callbackConfig, structuredClone(sections));
    return this;
  }

  check(): void {
    assert.deepEqual(this.emulator.state().accounts, this.accounts, "the accounts do not hold what the steps so far declared");
  }

  private account(appId: string): HeldAccounts[string] {
    const account = this.accounts[appId];
    assert.ok(account, `no account ${appId} in the emulator`);
    return account;
  }
}
