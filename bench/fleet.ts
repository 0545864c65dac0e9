/** The workload: N AuthorizerOption settings spread over ceil(N/3) accounts of one third-party platform. */
import { platformCredentials } from "../test/support/emulator";

export const OPTION_NAMES = ["location_report", "voice_recognize", "customer_service"] as const;
export type OptionName = (typeof OPTION_NAMES)[number];
/** The key the example program (examples/platform-fleet) reads for each option. */
export const OPTION_KEYS: Record<OptionName, string> = {
  location_report: "locationReport",
  voice_recognize: "voiceRecognize",
  customer_service: "customerService",
};
/** Every option starts at "0" on the emulator, so setting "1" always sends a set. */
export const TARGET_VALUE = "1";

export interface Account {
  appId: string;
  refreshToken: string;
}

export interface Setting {
  appId: string;
  optionName: OptionName;
}

export const accountsFor = (n: number) => Math.ceil(n / 3);

/** The n settings, account by account (as a program declares them): three per account, the last one maybe fewer. */
export function settingsFor(n: number, accounts: readonly Account[]): Setting[] {
  const settings: Setting[] = [];
  for (let i = 0; i < n; i++) settings.push({ appId: accounts[Math.floor(i / 3)].appId, optionName: OPTION_NAMES[i % 3] });
  return settings;
}

/** The platform's credentials as stack configuration (the secrets separately, as `pulumi config set --secret`). */
export function platformConfig(baseUrl: string, accounts: readonly Account[], concurrency: number) {
  return platformCredentials(baseUrl, accounts, { "wechat:maxConcurrency": String(concurrency) });
}
