/** Mocha set-up shared by the suites that run the provider against the emulator. */
import { DEMO_CREDENTIALS, WeChatEmulator } from "../emulator/server";

export { DEMO_CREDENTIALS };

/** Starts an emulator with the demo account and platform before each test, and stops it after. */
export function useEmulator(): {
  readonly emulator: WeChatEmulator;
  readonly baseUrl: string;
  accountConfig(extra?: Record<string, string>): Record<string, string>;
} {
  const context = {
    emulator: undefined as unknown as WeChatEmulator,
    baseUrl: "",
    /** Stack config for the demo account's own credentials, with retries fast enough for tests. */
    accountConfig(extra: Record<string, string> = {}): Record<string, string> {
      return {
        "wechat:apiBaseUrl": context.baseUrl,
        "wechat:appId": DEMO_CREDENTIALS.appId,
        "wechat:appSecret": DEMO_CREDENTIALS.appSecret,
        "wechat:retryBaseDelayMs": "1",
        ...extra,
      };
    },
  };
  // A new emulator (so a new URL, so a new provider session with an empty token cache) for every test.
  beforeEach(async () => {
    context.emulator = new WeChatEmulator();
    context.emulator.addDemo();
    context.baseUrl = await context.emulator.start();
  });
  afterEach(async () => {
    await context.emulator.stop();
  });
  return context;
}
