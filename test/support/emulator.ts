/**
 * The WeChat API emulator for a suite, and the stack configuration that reaches its demo account and platform: the
 * one place tests, the demo and the benchmark build the demo credentials.
 */
import { DEMO_CREDENTIALS, FleetAccount, WeChatEmulator } from "../emulator/server";

export { DEMO_CREDENTIALS };

/** Stack config and secrets of a run (the secrets set as `pulumi config set --secret` would). */
export interface StackSettings {
  config: Record<string, string>;
  secrets: Record<string, string>;
}

/** Retries fast enough for tests; pass `{}` for the provider's own tuning. */
export const FAST_RETRIES: Readonly<Record<string, string>> = { "wechat:retryBaseDelayMs": "1" };

/** An account authorized to the demo platform: the demo account itself, or one of a fleet. */
export type Authorized = Pick<FleetAccount, "appId" | "refreshToken">;
export const DEMO_AUTHORIZED: Authorized = { appId: DEMO_CREDENTIALS.appId, refreshToken: DEMO_CREDENTIALS.authorizerRefreshToken };

/** The demo account's own credentials (stable_token). */
export function accountCredentials(baseUrl: string, tuning: Record<string, string> = FAST_RETRIES): StackSettings {
  return {
    config: { "wechat:apiBaseUrl": baseUrl, "wechat:appId": DEMO_CREDENTIALS.appId, ...tuning },
    secrets: { "wechat:appSecret": DEMO_CREDENTIALS.appSecret },
  };
}

/** The demo platform acting for the given authorized accounts. */
export function platformCredentials(
  baseUrl: string,
  accounts: readonly Authorized[],
  tuning: Record<string, string> = FAST_RETRIES,
): StackSettings {
  return {
    config: { "wechat:apiBaseUrl": baseUrl, "wechat:componentAppId": DEMO_CREDENTIALS.componentAppId, ...tuning },
    secrets: {
      "wechat:componentAppSecret": DEMO_CREDENTIALS.componentAppSecret,
      "wechat:componentVerifyTicket": DEMO_CREDENTIALS.componentVerifyTicket,
      "wechat:authorizerRefreshTokens": JSON.stringify(Object.fromEntries(accounts.map((a) => [a.appId, a.refreshToken]))),
    },
  };
}

/** The emulator of a suite, its URL and its fleet (set by useEmulator before each test or suite). */
export class EmulatorContext {
  emulator!: WeChatEmulator;
  baseUrl = "";
  /** The accounts authorized to the demo platform besides the demo account. */
  fleet: FleetAccount[] = [];

  /** The demo account's credentials as the provider host hands them to `configure` (secrets unwrapped). */
  accountConfig(extra: Record<string, string> = {}): Record<string, string> {
    const { config, secrets } = accountCredentials(this.baseUrl);
    return { ...config, ...secrets, ...extra };
  }
}

/**
 * An emulator with the demo account and platform (and `fleet` more accounts authorized to it), started before and
 * stopped after each test (`per: "test"`, the default: a new URL, so no token cached for another test's emulator
 * applies, every test) or the whole describe (`per: "suite"`, for steps that build on each other).
 */
export function useEmulator(options: { fleet?: number; per?: "test" | "suite" } = {}): EmulatorContext {
  const context = new EmulatorContext();
  const [start, stop] = options.per === "suite" ? [before, after] : [beforeEach, afterEach];
  start(async () => {
    context.emulator = new WeChatEmulator();
    context.emulator.addDemo();
    context.fleet = context.emulator.addFleet(DEMO_CREDENTIALS.componentAppId, options.fleet ?? 0);
    context.baseUrl = await context.emulator.start();
  });
  stop(async () => {
    await context.emulator?.stop();
  });
  return context;
}
