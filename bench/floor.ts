/**
 * The floor: the same HTTP calls as the provider, made directly with got from one process (a fresh one, see
 * floorProcess.ts), with at most `concurrency` requests in flight (a first-in, first-out limit, as in the provider's
 * client) over keep-alive sockets, with the client options the provider uses. Every chain is started at once, so the
 * limit is always full while there is a call to make: no scheduler with that many requests in flight finishes sooner.
 *
 * - "set-only": per account one authorizer token (after the one component token), then one set per setting.
 * - "same calls": what the provider's create makes by design: the token calls, then per setting a get (create reads
 *   the current value so that delete can restore it) and a set.
 */
import * as http from "node:http";
import got from "got";
import { ConcurrencyLimit } from "../provider/client";
import { DEMO_CREDENTIALS } from "../test/emulator/server";
import { Account, Setting, TARGET_VALUE } from "./fleet";

export type FloorMode = "set-only" | "same calls";

export interface FloorResult {
  wallMs: number;
  /** CPU of this process (user + system) during the run, in ms. */
  cpuMs: number;
}

export async function runFloor(
  baseUrl: string,
  mode: FloorMode,
  settings: readonly Setting[],
  accounts: readonly Account[],
  concurrency: number,
): Promise<FloorResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const client = got.extend({
    prefixUrl: baseUrl,
    method: "POST",
    responseType: "text",
    throwHttpErrors: false,
    retry: 0,
    followRedirect: false,
    timeout: { request: 15000 },
    agent: { http: agent },
    headers: { "user-agent": "pulumi-wechat-bench-floor" },
  });
  const limit = new ConcurrencyLimit(concurrency);
  const post = (path: string, query: Record<string, string>, body: Record<string, unknown>) =>
    limit.run(async () => {
      const response = await client(path, { searchParams: query, json: body });
      const answer = JSON.parse(response.body) as Record<string, unknown>;
      if (response.statusCode !== 200 || (answer.errcode !== undefined && answer.errcode !== 0)) {
        throw new Error(`floor: ${path} answered HTTP ${response.statusCode} ${String(answer.errcode)} ${String(answer.errmsg)}`);
      }
      return answer;
    });

  const refreshTokens = new Map(accounts.map((a) => [a.appId, a.refreshToken]));
  let componentToken: Promise<string> | undefined;
  const authorizerTokens = new Map<string, Promise<string>>();
  const component = () =>
    (componentToken ??= post(
      "cgi-bin/component/api_component_token",
      {},
      {
        component_appid: DEMO_CREDENTIALS.componentAppId,
        component_appsecret: DEMO_CREDENTIALS.componentAppSecret,
        component_verify_ticket: DEMO_CREDENTIALS.componentVerifyTicket,
      },
    ).then((a) => String(a.component_access_token)));
  const authorizer = (appId: string) => {
    let token = authorizerTokens.get(appId);
    if (!token) {
      token = component().then((componentAccessToken) =>
        post(
          "cgi-bin/component/api_authorizer_token",
          { component_access_token: componentAccessToken },
          { component_appid: DEMO_CREDENTIALS.componentAppId, authorizer_appid: appId, authorizer_refresh_token: refreshTokens.get(appId) },
        ).then((a) => String(a.authorizer_access_token)),
      );
      authorizerTokens.set(appId, token);
    }
    return token;
  };

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    settings.map(async ({ appId, optionName }) => {
      const token = await authorizer(appId);
      if (mode === "same calls") {
        await post("cgi-bin/component/get_authorizer_option", { access_token: token }, { option_name: optionName });
      }
      await post(
        "cgi-bin/component/set_authorizer_option",
        { access_token: token },
        { option_name: optionName, option_value: TARGET_VALUE },
      );
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}
