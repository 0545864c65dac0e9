/** The workload: N AuthorizerOption settings spread over ceil(N/3) accounts of one third-party platform. */
import { DEMO_CREDENTIALS } from "../test/emulator/server";
import { platformCredentials } from "../test/support/emulator";

export const OPTION_NAMES = ["location_report", "voice_recognize", "customer_service"] as const;
/** The key the example program (examples/platform-fleet) reads for each option. */
const OPTION_KEYS = ["locationReport", "voiceRecognize", "customerService"] as const;
/** Every option starts at "0" on the emulator, so setting "1" always sends a set. */
export const TARGET_VALUE = "1";

export interface Account {
  appId: string;
  refreshToken: string;
}

export interface Setting {
  appId: string;
  optionName: (typeof OPTION_NAMES)[number];
}

export const accountsFor = (n: number) => Math.ceil(n / 3);

/** The n settings, account by account (as a program declares them): three per account, the last one maybe fewer. */
export function settingsFor(n: number, accounts: readonly Account[]): Setting[] {
  return Array.from({ length: n }, (_, i) => ({ appId: accounts[Math.floor(i / 3)].appId, optionName: OPTION_NAMES[i % 3] }));
}

/** The accounts file the example program reads (`accountsFile`) for the same n settings. */
export function accountsFileFor(n: number, accounts: readonly Account[]): string {
  const list = accounts.slice(0, accountsFor(n)).map((account, i) => {
    const entry: Record<string, unknown> = { appId: account.appId };
    for (let j = 0; j < 3 && i * 3 + j < n; j++) entry[OPTION_KEYS[j]] = Number(TARGET_VALUE);
    return entry;
  });
  return JSON.stringify(list);
}

/** The platform's credentials: the one source of both the stack configuration and the floor's request bodies. */
export function credentials(accounts: readonly Account[]) {
  return {
    componentAppId: DEMO_CREDENTIALS.componentAppId,
    componentAppSecret: DEMO_CREDENTIALS.componentAppSecret,
    componentVerifyTicket: DEMO_CREDENTIALS.componentVerifyTicket,
    refreshTokens: Object.fromEntries(accounts.map((a) => [a.appId, a.refreshToken])),
  };
}

/** The credentials as stack configuration, built as the tests build them (the secrets separately). */
export function stackConfig(baseUrl: string, accounts: readonly Account[], concurrency: number) {
  return platformCredentials(baseUrl, accounts, { "wechat:maxConcurrency": String(concurrency) });
}
