/**
 * The floor: the same HTTP calls as the provider, made directly with got, with at most `concurrency` requests in
 * flight (the provider's own first-in, first-out `ConcurrencyLimit`) over keep-alive sockets. Every chain is started
 * at once, so the limit is always full while there is a call to make: no scheduler with that many requests in flight
 * finishes sooner. It runs in a fresh process, as cold as the provider host it is compared with (got is loaded before
 * the timed calls, as the host has loaded its modules).
 *
 * - "set-only": per account one authorizer token (after the one component token), then one set per setting.
 * - "same calls": what the provider's create makes by design: the token calls, then per setting a get (create reads
 *   the current value so that delete can restore it) and a set.
 */
import * as http from "node:http";
import got from "got";
import { ConcurrencyLimit } from "../provider/client";
import { Run } from "./analysis";
import { Child, serve } from "./child";
import { Account, Setting, TARGET_VALUE, credentials } from "./fleet";

export type FloorMode = "set-only" | "same calls";

export interface FloorArgs {
  baseUrl: string;
  mode: FloorMode;
  settings: Setting[];
  accounts: Account[];
  concurrency: number;
}

/** Wall time and this process's CPU ("client") during the calls, ms. */
export type FloorResult = Pick<Run, "wallMs" | "cpuMs">;

async function runFloor({ baseUrl, mode, settings, accounts, concurrency }: FloorArgs): Promise<FloorResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const client = got.extend({ prefixUrl: baseUrl, method: "POST", responseType: "text", retry: 0, agent: { http: agent } });
  const limit = new ConcurrencyLimit(concurrency);
  const post = (path: string, query: Record<string, string>, body: Record<string, unknown>) =>
    limit.run(async () => {
      const answer = JSON.parse((await client(path, { searchParams: query, json: body })).body) as Record<string, unknown>;
      if (answer.errcode) throw new Error(`floor: ${path} answered ${String(answer.errcode)} ${String(answer.errmsg)}`);
      return answer;
    });
  const c = credentials(accounts);
  const component = post(
    "cgi-bin/component/api_component_token",
    {},
    { component_appid: c.componentAppId, component_appsecret: c.componentAppSecret, component_verify_ticket: c.componentVerifyTicket },
  ).then((a) => String(a.component_access_token));
  const tokens = new Map<string, Promise<string>>();
  const authorizer = (appId: string) => {
    if (!tokens.has(appId)) {
      const body = { component_appid: c.componentAppId, authorizer_appid: appId, authorizer_refresh_token: c.refreshTokens[appId] };
      const token = component.then((t) => post("cgi-bin/component/api_authorizer_token", { component_access_token: t }, body));
      tokens.set(
        appId,
        token.then((a) => String(a.authorizer_access_token)),
      );
    }
    return tokens.get(appId)!;
  };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    settings.map(async ({ appId, optionName }) => {
      const query = { access_token: await authorizer(appId) };
      if (mode === "same calls") await post("cgi-bin/component/get_authorizer_option", query, { option_name: optionName });
      await post("cgi-bin/component/set_authorizer_option", query, { option_name: optionName, option_value: TARGET_VALUE });
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  return { wallMs, cpuMs: { client: (cpu.user + cpu.system) / 1000 } };
}

/** Runs the floor in a new process and resolves with what it measured. */
export async function runFloorProcess(args: FloorArgs): Promise<FloorResult> {
  const child = await Child.start(__filename);
  try {
    return await child.ask<FloorResult>({ args });
  } finally {
    await child.stop();
  }
}

if (require.main === module)
  serve({}, (request) => runFloor(request.args as FloorArgs) as Promise<unknown> as Promise<Record<string, unknown>>);
