/**
 * Part 1, the floor: the provider's HTTP calls made directly with got (keep-alive, the provider's own first-in
 * first-out `ConcurrencyLimit` of C requests, every chain started at once, so that no scheduler with C requests in
 * flight finishes sooner), in a fresh process as cold as the provider host. "set-only": the token calls and one set
 * per setting; "same calls" adds the get that create makes by design.
 */
import { execFile } from "node:child_process";
import * as http from "node:http";
import { promisify } from "node:util";
import got from "got";
import { ConcurrencyLimit } from "../provider/client";
import { DEMO_CREDENTIALS as DEMO } from "../test/support/emulator";
import { Measured, Planned } from "./analysis";
import { TARGET_VALUE, settingsFor } from "./emulator";

type Answer = Record<string, string>;

/** Wall time and this process's CPU ("client") during the calls, at most `parallel` (C) in flight. */
async function runFloor({ scenario, n, parallel: concurrency }: Planned, baseUrl: string): Promise<Measured> {
  const settings = settingsFor(n);
  const agent = { http: new http.Agent({ keepAlive: true, maxSockets: concurrency }) };
  const client = got.extend({ prefixUrl: `${baseUrl}/cgi-bin/component`, method: "POST", responseType: "text", retry: 0, agent });
  const limit = new ConcurrencyLimit(concurrency);
  const post = (path: string, query: Answer, body: Answer) =>
    limit.run(async () => {
      const answer = JSON.parse((await client(path, { searchParams: query, json: body })).body) as Answer;
      if (answer.errcode) throw new Error(`floor: ${path} answered ${answer.errcode} ${answer.errmsg}`);
      return answer;
    });
  const platform = { component_appid: DEMO.componentAppId };
  const secrets = { component_appsecret: DEMO.componentAppSecret, component_verify_ticket: DEMO.componentVerifyTicket };
  const component = post("api_component_token", {}, { ...platform, ...secrets });
  // One authorizer token per account, fetched when its first setting needs it.
  const tokens = new Map<string, Promise<Answer>>();
  const authorizer = (appId: string, refreshToken: string) => {
    const body = { ...platform, authorizer_appid: appId, authorizer_refresh_token: refreshToken };
    const fetch = async () => post("api_authorizer_token", { component_access_token: (await component).component_access_token }, body);
    if (!tokens.has(appId)) tokens.set(appId, fetch());
    return tokens.get(appId)!;
  };
  const [cpuBefore, started] = [process.cpuUsage(), performance.now()];
  await Promise.all(
    settings.map(async ({ appId, refreshToken, optionName }) => {
      const query = { access_token: (await authorizer(appId, refreshToken)).authorizer_access_token };
      if (scenario === "same calls") await post("get_authorizer_option", query, { option_name: optionName });
      await post("set_authorizer_option", query, { option_name: optionName, option_value: TARGET_VALUE });
    }),
  );
  const [wallMs, cpu] = [performance.now() - started, process.cpuUsage(cpuBefore)];
  agent.http.destroy();
  return { wallMs, cpuMs: { client: (cpu.user + cpu.system) / 1000 } };
}

/** Runs the floor in a new process, which prints what it measured as JSON; a failure is its stderr's last line. */
export async function runFloorProcess(run: Planned, baseUrl: string): Promise<Measured> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [__filename, JSON.stringify(run), baseUrl]);
    return JSON.parse(stdout) as Measured;
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? "").trim();
    throw new Error(`the floor process failed: ${stderr.split("\n").pop() || (e as Error).message}`, { cause: e });
  }
}

if (require.main === module)
  void runFloor(JSON.parse(process.argv[2]) as Planned, process.argv[3]).then((r) => process.stdout.write(JSON.stringify(r)));
