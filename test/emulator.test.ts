/**
 * Specification of the WeChat API emulator (test/emulator/server.ts), exercised over real HTTP.
 */
import * as assert from "node:assert/strict";
import * as http from "node:http";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { DEMO_CREDENTIALS, EmulatorOptions, WeChatEmulator } from "./emulator/server";

const D = DEMO_CREDENTIALS;
const OTHER_PLATFORM = "wx00000000000000c1";
const LONELY_APP = "wx00000000000000aa"; // registered, authorized to no platform

interface Reply {
  status: number;
  text: string;
  /** The parsed answer, or undefined when it is not JSON; each test names and checks the fields it expects. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let emu: WeChatEmulator;
let base: string;

async function boot(options: EmulatorOptions = {}): Promise<void> {
  emu = new WeChatEmulator(options);
  emu.addDemo();
  emu.addPlatform({ componentAppId: OTHER_PLATFORM, componentAppSecret: "other-secret", verifyTicket: "other-ticket" });
  emu.addAccount({ appId: LONELY_APP, appSecret: "lonely-secret" });
  base = await emu.start();
}

async function call(pathAndQuery: string, body?: unknown, init: { method?: string; raw?: string } = {}): Promise<Reply> {
  const res = await fetch(base + pathAndQuery, {
    method: init.method ?? "POST",
    headers: { "content-type": "application/json" },
    body: init.raw !== undefined ? init.raw : body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Reply["json"];
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

async function stableToken(forceRefresh = false): Promise<string> {
  const r = await call("/cgi-bin/stable_token", {
    grant_type: "client_credential",
    appid: D.appId,
    secret: D.appSecret,
    force_refresh: forceRefresh,
  });
  assert.equal(typeof r.json.access_token, "string", r.text);
  return r.json.access_token as string;
}

async function componentToken(): Promise<string> {
  const r = await call("/cgi-bin/component/api_component_token", {
    component_appid: D.componentAppId,
    component_appsecret: D.componentAppSecret,
    component_verify_ticket: D.componentVerifyTicket,
  });
  assert.equal(typeof r.json.component_access_token, "string", r.text);
  return r.json.component_access_token as string;
}

const setOption = (token: string, option_name: unknown, option_value: unknown) =>
  call(`/cgi-bin/component/set_authorizer_option?access_token=${token}`, { option_name, option_value });
const getOption = (token: string, option_name: unknown) =>
  call(`/cgi-bin/component/get_authorizer_option?access_token=${token}`, { option_name });
const setCallback = (token: string, body: unknown) => call(`/tcb/setcallbackconfig?access_token=${token}`, body);
const getCallback = (token: string) => call(`/tcb/getcallbackconfig?access_token=${token}`, {});

const FULL_CONFIG = {
  function_config: {
    enable: true,
    callbacks: [
      { msgType: "event", event: "user_enter_tempsession", env: "test-env-6gni9ity244a6ea3", functionName: "callback", enable: false },
      { msgType: "image", event: "", env: "test-env-6gni9ity244a6ea3", functionName: "callback", enable: true },
    ],
  },
  container_config: {
    enable: true,
    qbase_env: "test-env-6gni9ity244a6ea3",
    qbase_container_path: "/container-echo",
    text_mode: 1,
  },
};

function withEmulator(options: EmulatorOptions = {}): void {
  beforeEach(() => boot(options));
  afterEach(() => emu.stop());
}

describe("WeChat API emulator", function () {
  this.timeout(10_000);

  describe("stable_token (the account's own credentials)", () => {
    withEmulator();

    it("answers an access token with expires_in 7200 and no errcode", async () => {
      const r = await call("/cgi-bin/stable_token", {
        grant_type: "client_credential",
        appid: D.appId,
        secret: D.appSecret,
        force_refresh: false,
      });
      assert.equal(r.status, 200);
      assert.match(r.json.access_token, /^\S{20,}$/);
      assert.equal(r.json.expires_in, 7200);
      assert.equal(r.json.errcode, undefined);
    });

    it("answers the same still-valid token again", async () => {
      assert.equal(await stableToken(), await stableToken());
    });

    it("force_refresh issues a new token and the old one stops working (40001)", async () => {
      const old = await stableToken();
      const fresh = await stableToken(true);
      assert.notEqual(fresh, old);
      assert.equal((await getOption(old, "location_report")).json.errcode, 40001);
      assert.equal((await getOption(fresh, "location_report")).json.errcode, 0);
    });

    it("unknown appid: 40013", async () => {
      const r = await call("/cgi-bin/stable_token", { grant_type: "client_credential", appid: "wx1234567890abcdef", secret: "x" });
      assert.equal(r.status, 200);
      assert.equal(r.json.errcode, 40013);
      assert.match(r.json.errmsg, /^invalid appid/);
    });

    it("wrong secret: 40125 invalid appsecret", async () => {
      const r = await call("/cgi-bin/stable_token", { grant_type: "client_credential", appid: D.appId, secret: "nope" });
      assert.equal(r.json.errcode, 40125);
      assert.match(r.json.errmsg, /^invalid appsecret/);
    });

    it("missing appid: 41002; missing secret: 41004; wrong grant_type: 40002", async () => {
      assert.equal((await call("/cgi-bin/stable_token", { grant_type: "client_credential", secret: "x" })).json.errcode, 41002);
      assert.equal((await call("/cgi-bin/stable_token", { grant_type: "client_credential", appid: D.appId })).json.errcode, 41004);
      assert.equal(
        (await call("/cgi-bin/stable_token", { grant_type: "password", appid: D.appId, secret: D.appSecret })).json.errcode,
        40002,
      );
    });
  });

  describe("component token and authorizer token (a third-party platform)", () => {
    withEmulator();

    it("api_component_token answers a component_access_token", async () => {
      const r = await call("/cgi-bin/component/api_component_token", {
        component_appid: D.componentAppId,
        component_appsecret: D.componentAppSecret,
        component_verify_ticket: D.componentVerifyTicket,
      });
      assert.equal(typeof r.json.component_access_token, "string");
      assert.equal(r.json.expires_in, 7200);
    });

    it("wrong component appid 40013, wrong secret 40125, wrong ticket 61006, missing field 40101", async () => {
      const good = {
        component_appid: D.componentAppId,
        component_appsecret: D.componentAppSecret,
        component_verify_ticket: D.componentVerifyTicket,
      };
      const p = "/cgi-bin/component/api_component_token";
      assert.equal((await call(p, { ...good, component_appid: "wx9999999999999999" })).json.errcode, 40013);
      assert.equal((await call(p, { ...good, component_appsecret: "bad" })).json.errcode, 40125);
      const ticket = await call(p, { ...good, component_verify_ticket: "bad" });
      assert.equal(ticket.json.errcode, 61006);
      assert.match(ticket.json.errmsg, /^component ticket is invalid/);
      assert.equal((await call(p, { component_appid: D.componentAppId })).json.errcode, 40101);
    });

    it("api_authorizer_token answers an authorizer token that works on the account's endpoints", async () => {
      const ct = await componentToken();
      const r = await call(`/cgi-bin/component/api_authorizer_token?component_access_token=${ct}`, {
        component_appid: D.componentAppId,
        authorizer_appid: D.appId,
        authorizer_refresh_token: D.authorizerRefreshToken,
      });
      assert.equal(typeof r.json.authorizer_access_token, "string");
      assert.equal(r.json.expires_in, 7200);
      assert.equal(r.json.authorizer_refresh_token, D.authorizerRefreshToken);
      assert.equal((await setOption(r.json.authorizer_access_token, "voice_recognize", "1")).json.errcode, 0);
      assert.equal(emu.options(D.appId).voice_recognize, "1");
    });

    it("wrong refresh token: 61023", async () => {
      const ct = await componentToken();
      const r = await call(`/cgi-bin/component/api_authorizer_token?component_access_token=${ct}`, {
        component_appid: D.componentAppId,
        authorizer_appid: D.appId,
        authorizer_refresh_token: "refreshtoken@@@wrong",
      });
      assert.equal(r.json.errcode, 61023);
      assert.match(r.json.errmsg, /^refresh_token is invalid/);
    });

    it("an account that has not authorized the platform: 61003", async () => {
      const ct = await componentToken();
      const r = await call(`/cgi-bin/component/api_authorizer_token?component_access_token=${ct}`, {
        component_appid: D.componentAppId,
        authorizer_appid: LONELY_APP,
        authorizer_refresh_token: "whatever",
      });
      assert.equal(r.json.errcode, 61003);
    });

    it("an authorizer token where the component token is required: 40014", async () => {
      const at = await stableToken();
      const r = await call(`/cgi-bin/component/api_authorizer_token?component_access_token=${at}`, {
        component_appid: D.componentAppId,
        authorizer_appid: D.appId,
        authorizer_refresh_token: D.authorizerRefreshToken,
      });
      assert.equal(r.json.errcode, 40014);
    });

    it("addFleet registers n deterministic authorized accounts that can get tokens", async () => {
      const fleet = emu.addFleet(D.componentAppId, 3);
      assert.equal(fleet.length, 3);
      for (const a of fleet) assert.match(a.appId, /^wx[0-9a-f]{16}$/);
      assert.equal(new Set(fleet.map((a) => a.appId)).size, 3);
      const again = new WeChatEmulator();
      again.addDemo();
      assert.deepEqual(again.addFleet(D.componentAppId, 3), fleet);
      const ct = await componentToken();
      const r = await call(`/cgi-bin/component/api_authorizer_token?component_access_token=${ct}`, {
        component_appid: D.componentAppId,
        authorizer_appid: fleet[2].appId,
        authorizer_refresh_token: fleet[2].refreshToken,
      });
      assert.equal(typeof r.json.authorizer_access_token, "string");
    });
  });

  describe("access token checks", () => {
    withEmulator();

    it("no token: 41001", async () => {
      const r = await call("/cgi-bin/component/get_authorizer_option", { option_name: "location_report" });
      assert.equal(r.status, 200);
      assert.equal(r.json.errcode, 41001);
    });

    it("unknown token: 40001 invalid credential", async () => {
      const r = await getOption("not-a-token", "location_report");
      assert.equal(r.json.errcode, 40001);
      assert.match(r.json.errmsg, /^invalid credential/);
    });

    it("a component token used as access_token: 40014", async () => {
      const r = await getOption(await componentToken(), "location_report");
      assert.equal(r.json.errcode, 40014);
    });

    it("a token minted with issueAccessToken works for its account", async () => {
      const t = emu.issueAccessToken(D.appId);
      assert.equal((await setOption(t, "customer_service", "1")).json.errcode, 0);
      assert.equal(emu.options(D.appId).customer_service, "1");
    });

    it("a token is bound to its account", async () => {
      await setOption(emu.issueAccessToken(LONELY_APP), "location_report", "2");
      assert.equal(emu.options(LONELY_APP).location_report, "2");
      assert.equal(emu.options(D.appId).location_report, "0");
    });

    it("expireTokens() makes the next use answer 42001", async () => {
      const t = emu.issueAccessToken(D.appId);
      emu.expireTokens(D.appId);
      assert.equal((await getOption(t, "location_report")).json.errcode, 42001);
    });
  });

  describe("token expiry (1-second lifetime)", () => {
    withEmulator({ tokenLifetimeSec: 1 });

    it("answers expires_in 1, then 42001 once the lifetime has passed, then a new token", async () => {
      const r = await call("/cgi-bin/stable_token", { grant_type: "client_credential", appid: D.appId, secret: D.appSecret });
      assert.equal(r.json.expires_in, 1);
      const t = r.json.access_token as string;
      assert.equal((await getOption(t, "location_report")).json.errcode, 0);
      await new Promise((res) => setTimeout(res, 1100));
      const expired = await getOption(t, "location_report");
      assert.equal(expired.json.errcode, 42001);
      assert.match(expired.json.errmsg, /^access_token expired/);
      const fresh = await stableToken();
      assert.notEqual(fresh, t);
      assert.equal((await getOption(fresh, "location_report")).json.errcode, 0);
      assert.equal((await getOption(t, "location_report")).json.errcode, 42001, "the old token still answers 42001");
    });
  });

  describe("method and body checks (every endpoint)", () => {
    withEmulator();

    it("GET answers 43002 with HTTP 200, on token endpoints too", async () => {
      const t = emu.issueAccessToken(D.appId);
      for (const p of [`/tcb/getcallbackconfig?access_token=${t}`, "/cgi-bin/stable_token"]) {
        const r = await call(p, undefined, { method: "GET" });
        assert.equal(r.status, 200);
        assert.equal(r.json.errcode, 43002);
      }
    });

    it("empty body: 44002", async () => {
      const r = await call(`/tcb/getcallbackconfig?access_token=${emu.issueAccessToken(D.appId)}`, undefined);
      assert.equal(r.json.errcode, 44002);
    });

    it("a body that is not a JSON object: 47001", async () => {
      const t = emu.issueAccessToken(D.appId);
      assert.equal((await call(`/tcb/getcallbackconfig?access_token=${t}`, undefined, { raw: "{nope" })).json.errcode, 47001);
      assert.equal((await call(`/tcb/getcallbackconfig?access_token=${t}`, [1, 2])).json.errcode, 47001);
      assert.equal((await call("/cgi-bin/stable_token", undefined, { raw: "appid=x" })).json.errcode, 47001);
    });

    it("an unknown path answers HTTP 404 with a JSON errcode", async () => {
      const r = await call("/cgi-bin/nothing", {});
      assert.equal(r.status, 404);
      assert.equal(typeof r.json.errcode, "number");
    });
  });

  describe("authorizer options", () => {
    withEmulator();
    let t: string;
    beforeEach(() => {
      t = emu.issueAccessToken(D.appId);
    });

    it('every option starts at "0"', async () => {
      for (const name of ["location_report", "voice_recognize", "customer_service"]) {
        const r = await getOption(t, name);
        assert.deepEqual(r.json, { errcode: 0, errmsg: "ok", option_name: name, option_value: "0" });
      }
    });

    it("set then get round-trips the value", async () => {
      assert.deepEqual((await setOption(t, "location_report", "2")).json, { errcode: 0, errmsg: "ok" });
      assert.equal((await getOption(t, "location_report")).json.option_value, "2");
      assert.deepEqual(emu.options(D.appId), { location_report: "2", voice_recognize: "0", customer_service: "0" });
    });

    it("a missing option_name or option_value: 40101", async () => {
      assert.equal(
        (await call(`/cgi-bin/component/set_authorizer_option?access_token=${t}`, { option_name: "voice_recognize" })).json.errcode,
        40101,
      );
      assert.equal((await call(`/cgi-bin/component/set_authorizer_option?access_token=${t}`, { option_value: "1" })).json.errcode, 40101);
      assert.equal((await call(`/cgi-bin/component/get_authorizer_option?access_token=${t}`, {})).json.errcode, 40101);
    });

    it("an unknown option, a value outside its set, or a non-string value: 47001, state unchanged", async () => {
      assert.equal((await setOption(t, "auto_reply", "1")).json.errcode, 47001);
      assert.equal((await setOption(t, "location_report", "3")).json.errcode, 47001);
      assert.equal((await setOption(t, "voice_recognize", "2")).json.errcode, 47001);
      assert.equal((await setOption(t, "customer_service", 1)).json.errcode, 47001);
      assert.equal((await getOption(t, "toString")).json.errcode, 47001);
      assert.deepEqual(emu.options(D.appId), { location_report: "0", voice_recognize: "0", customer_service: "0" });
    });

    it("an out-of-band setOption() is what get answers", async () => {
      emu.setOption(D.appId, "voice_recognize", "1");
      assert.equal((await getOption(t, "voice_recognize")).json.option_value, "1");
    });
  });

  describe("CloudBase callback config", () => {
    withEmulator();
    let t: string;
    beforeEach(() => {
      t = emu.issueAccessToken(D.appId);
    });

    it("get answers the default config of a new account", async () => {
      const r = await getCallback(t);
      assert.deepEqual(r.json, {
        errcode: 0,
        errmsg: "ok",
        data: {
          function_config: { enable: false, callbacks: [] },
          container_config: { enable: false, qbase_env: "", qbase_container_path: "", text_mode: 1 },
        },
      });
    });

    it("set then get round-trips both sections", async () => {
      assert.deepEqual((await setCallback(t, FULL_CONFIG)).json, { errcode: 0, errmsg: "ok" });
      assert.deepEqual((await getCallback(t)).json.data, FULL_CONFIG);
      assert.deepEqual(emu.callbackConfig(D.appId), FULL_CONFIG);
    });

    it("a section left out is not updated", async () => {
      await setCallback(t, FULL_CONFIG);
      await setCallback(t, { container_config: { ...FULL_CONFIG.container_config, enable: false, text_mode: 2 } });
      const data = (await getCallback(t)).json.data;
      assert.deepEqual(data.function_config, FULL_CONFIG.function_config);
      assert.equal(data.container_config.enable, false);
      assert.equal(data.container_config.text_mode, 2);
      await setCallback(t, { function_config: { enable: false, callbacks: [] } });
      const after = (await getCallback(t)).json.data;
      assert.deepEqual(after.function_config, { enable: false, callbacks: [] });
      assert.equal(after.container_config.text_mode, 2);
    });

    it("both sections left out: 40101; a missing key inside a section: 40101", async () => {
      assert.equal((await setCallback(t, {})).json.errcode, 40101);
      const { text_mode: _dropped, ...noTextMode } = FULL_CONFIG.container_config;
      assert.equal((await setCallback(t, { container_config: noTextMode })).json.errcode, 40101);
    });

    it("malformed shapes: 47001 and nothing changes", async () => {
      const cc = FULL_CONFIG.container_config;
      const bad: unknown[] = [
        { container_config: { ...cc, text_mode: 3 } },
        { container_config: { ...cc, text_mode: "1" } },
        { container_config: { enable: true, qbase_env: "e", "qbase_container_path ": "/x", text_mode: 1 } },
        { container_config: { ...cc, enable: "true" } },
        { function_config: { enable: true, callbacks: {} } },
        { function_config: { enable: true, callbacks: [{ ...FULL_CONFIG.function_config.callbacks[1], extra: 1 }] } },
        { function_config: { enable: true, callbacks: [{ ...FULL_CONFIG.function_config.callbacks[1], enable: 1 }] } },
        { function_config: { enable: true, callbacks: [{ ...FULL_CONFIG.function_config.callbacks[1], event: "subscribe" }] } },
        { functionConfig: FULL_CONFIG.function_config },
        { container_config: null },
      ];
      for (const body of bad) {
        const r = await setCallback(t, body);
        assert.equal(r.json.errcode, 47001, JSON.stringify(body));
      }
      assert.deepEqual((await getCallback(t)).json.data, emu.callbackConfig(LONELY_APP));
    });

    it("an out-of-band setCallbackConfig() is what get answers", async () => {
      emu.setCallbackConfig(D.appId, { container_config: { enable: true, qbase_env: "drifted" } });
      const data = (await getCallback(t)).json.data;
      assert.equal(data.container_config.qbase_env, "drifted");
      assert.equal(data.container_config.enable, true);
    });
  });

  describe("fault injection", () => {
    withEmulator({ seed: 42 });
    let t: string;
    beforeEach(() => {
      t = emu.issueAccessToken(D.appId);
    });

    it("errcode: answers it with HTTP 200 and the set is not applied", async () => {
      emu.injectFault({ path: "/cgi-bin/component/set_authorizer_option", errcode: 45011 });
      const r = await setOption(t, "location_report", "1");
      assert.equal(r.status, 200);
      assert.equal(r.json.errcode, 45011);
      assert.equal(emu.options(D.appId).location_report, "0");
      assert.equal((await getOption(t, "location_report")).json.errcode, 0, "other paths are not hit");
    });

    it("errcode with a custom errmsg", async () => {
      emu.injectFault({ errcode: 61004, errmsg: "access clientip 10.0.0.1 is not registered" });
      assert.deepEqual((await getOption(t, "location_report")).json, {
        errcode: 61004,
        errmsg: "access clientip 10.0.0.1 is not registered",
      });
    });

    it("httpStatus: answers it with a non-JSON body", async () => {
      emu.injectFault({ path: /getcallbackconfig$/, httpStatus: 502 });
      const r = await getCallback(t);
      assert.equal(r.status, 502);
      assert.equal(r.json, undefined);
      assert.match(r.text, /502 Bad Gateway/);
    });

    it("delayMs: answers late", async () => {
      emu.injectFault({ delayMs: 250 });
      const started = Date.now();
      const r = await getOption(t, "location_report");
      assert.ok(Date.now() - started >= 240, "answer came too early");
      assert.equal(r.json.errcode, 0);
    });

    it("drop: the connection closes without an answer and the set is not applied", async () => {
      emu.injectFault({ drop: true });
      await assert.rejects(setOption(t, "location_report", "1"));
      assert.equal(emu.options(D.appId).location_report, "0");
      assert.equal(emu.requests.at(-1)!.fault, "drop");
      assert.equal(emu.requests.at(-1)!.httpStatus, 0);
    });

    it("afterApply: the change lands, then the answer fails", async () => {
      emu.injectFault({ path: "/cgi-bin/component/set_authorizer_option", drop: true, afterApply: true, times: 1 });
      await assert.rejects(setOption(t, "location_report", "2"));
      assert.equal(emu.options(D.appId).location_report, "2");
      emu.injectFault({ path: "/tcb/setcallbackconfig", errcode: -1, afterApply: true, times: 1 });
      assert.equal((await setCallback(t, FULL_CONFIG)).json.errcode, -1);
      assert.deepEqual(emu.callbackConfig(D.appId), FULL_CONFIG);
      assert.equal(emu.requests.at(-1)!.afterApply, true);
    });

    it("times: hits that many matching requests, then the rule is spent", async () => {
      const h = emu.injectFault({ errcode: -1, times: 2 });
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await getOption(t, "location_report")).json.errcode);
      assert.deepEqual(codes, [-1, -1, 0, 0]);
      assert.equal(h.hits, 2);
    });

    it("appId: hits only requests of that account; remove() ends the rule", async () => {
      const h = emu.injectFault({ appId: LONELY_APP, errcode: 48001 });
      assert.equal((await getOption(t, "location_report")).json.errcode, 0);
      const lonely = emu.issueAccessToken(LONELY_APP);
      assert.equal((await getOption(lonely, "location_report")).json.errcode, 48001);
      h.remove();
      assert.equal((await getOption(lonely, "location_report")).json.errcode, 0);
    });

    it("faults apply to token endpoints too", async () => {
      emu.injectFault({ path: "/cgi-bin/stable_token", httpStatus: 503, times: 1 });
      const r = await call("/cgi-bin/stable_token", { grant_type: "client_credential", appid: D.appId, secret: D.appSecret });
      assert.equal(r.status, 503);
      assert.equal(typeof (await stableToken()), "string");
    });

    it("probability: the same seed faults the same requests", async () => {
      const pattern = async (seed: number) => {
        const h = emu.injectFault({ errcode: -1, probability: 0.5, seed });
        const codes: number[] = [];
        for (let i = 0; i < 40; i++) codes.push((await getOption(t, "location_report")).json.errcode);
        h.remove();
        return codes.map((c) => (c === 0 ? "." : "x")).join("");
      };
      const a = await pattern(7);
      const b = await pattern(7);
      const c = await pattern(8);
      assert.equal(a, b);
      assert.notEqual(a, c);
      const hits = a.split("").filter((ch) => ch === "x").length;
      assert.ok(hits > 5 && hits < 35, `about half should fail, got ${a}`);
    });

    it("random faults: seeded, transient kinds only, counted; rate 0 turns them off", async () => {
      const run = async () => {
        emu.setRandomFaults({ rate: 0.5, seed: 99 });
        const outcomes: string[] = [];
        for (let i = 0; i < 30; i++) {
          try {
            const r = await getOption(t, "location_report");
            outcomes.push(r.status !== 200 ? `http:${r.status}` : `errcode:${r.json.errcode}`);
          } catch {
            outcomes.push("drop");
          }
        }
        emu.setRandomFaults({ rate: 0 });
        return outcomes;
      };
      const first = await run();
      const second = await run();
      assert.deepEqual(first, second);
      const allowed = new Set(["errcode:0", "errcode:-1", "errcode:-1000", "errcode:45011", "http:500", "http:502", "http:503", "drop"]);
      for (const o of first) assert.ok(allowed.has(o), o);
      const faulted = first.filter((o) => o !== "errcode:0").length;
      assert.equal(emu.faultCounts().total, faulted * 2);
      assert.equal((await getOption(t, "location_report")).json.errcode, 0);
    });

    it("setLatency delays every answer", async () => {
      emu.setLatency(150);
      const started = Date.now();
      await getOption(t, "location_report");
      assert.ok(Date.now() - started >= 140);
      emu.setLatency(0);
    });

    it("faultCounts() counts by kind; clearFaults() removes every rule", async () => {
      emu.injectFault({ path: "/cgi-bin/component/get_authorizer_option", errcode: 45009, times: 2 });
      emu.injectFault({ path: "/tcb/getcallbackconfig", httpStatus: 500 });
      await getOption(t, "location_report");
      await getOption(t, "location_report");
      await getCallback(t);
      assert.deepEqual(emu.faultCounts(), { "errcode:45009": 2, "http:500": 1, total: 3 });
      emu.clearFaults();
      assert.equal((await getCallback(t)).status, 200);
    });
  });

  describe("request log", () => {
    withEmulator();

    it("records every API request with its account, token kind, body and answer", async () => {
      const t = emu.issueAccessToken(D.appId);
      emu.clearRequests();
      await setOption(t, "location_report", "1");
      await getOption("bogus", "location_report");
      await componentToken();
      emu.injectFault({ path: "/tcb/getcallbackconfig", errcode: -1000 });
      await getCallback(t);
      const log = emu.requests;
      assert.equal(log.length, 4);
      assert.deepEqual(
        log.map((r) => r.seq),
        [log[0].seq, log[0].seq + 1, log[0].seq + 2, log[0].seq + 3],
      );
      assert.equal(log[0].method, "POST");
      assert.equal(log[0].path, "/cgi-bin/component/set_authorizer_option");
      assert.equal(log[0].appId, D.appId);
      assert.equal(log[0].tokenKind, "authorizer");
      assert.deepEqual(log[0].body, { option_name: "location_report", option_value: "1" });
      assert.equal(log[0].errcode, 0);
      assert.equal(log[0].httpStatus, 200);
      assert.equal(typeof log[0].at, "number");
      assert.equal(log[1].errcode, 40001);
      assert.equal(log[1].appId, undefined);
      assert.equal(log[2].platform, D.componentAppId);
      assert.equal(log[3].fault, "errcode:-1000");
      assert.equal(log[3].errcode, -1000);
      assert.deepEqual(emu.callCounts(), { set: 1, get: 2, token: 1, total: 4 });
      assert.equal(emu.count({ appId: D.appId }), 2);
      assert.equal(emu.count({ fault: true }), 1);
      assert.equal(emu.count({ kind: "get", errcode: 40001 }), 1);
    });
  });

  describe("control endpoints", () => {
    withEmulator();

    it("GET /__emulator/state answers every account's options and callback config", async () => {
      emu.setOption(D.appId, "location_report", "1");
      const r = await call("/__emulator/state", undefined, { method: "GET" });
      assert.equal(r.status, 200);
      assert.equal(r.json.accounts[D.appId].options.location_report, "1");
      assert.deepEqual(r.json.accounts[LONELY_APP].callbackConfig, emu.callbackConfig(LONELY_APP));
    });

    it("other paths under /__emulator/ answer 404 and are not logged", async () => {
      assert.equal((await call("/__emulator/faults", { errcode: 45011 })).status, 404);
      assert.equal((await call("/__emulator/requests", undefined, { method: "GET" })).status, 404);
      assert.equal(emu.requests.length, 0);
    });
  });

  describe("server", () => {
    it("stop() returns promptly with a keep-alive connection open", async () => {
      await boot();
      const agent = new http.Agent({ keepAlive: true });
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request(`${base}/__emulator/state`, { agent }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          });
          req.on("error", reject);
          req.end();
        });
        assert.equal(status, 200);
        const started = Date.now();
        await emu.stop();
        assert.ok(Date.now() - started < 1000, "stop() waited for the idle keep-alive connection");
      } finally {
        agent.destroy();
      }
    });

    it("answers 1000 concurrent requests", async () => {
      await boot();
      try {
        const t = emu.issueAccessToken(D.appId);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });
        const body = JSON.stringify({ option_name: "location_report" });
        const one = () =>
          new Promise<number>((resolve, reject) => {
            const req = http.request(
              `${base}/cgi-bin/component/get_authorizer_option?access_token=${t}`,
              { method: "POST", agent, headers: { "content-type": "application/json", "content-length": body.length } },
              (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (c: string) => (text += c));
                res.on("end", () => resolve(JSON.parse(text).errcode as number));
              },
            );
            req.on("error", reject);
            req.end(body);
          });
        const codes = await Promise.all(Array.from({ length: 1000 }, one));
        assert.ok(codes.every((c) => c === 0));
        assert.equal(emu.callCounts().get, 1000);
        agent.destroy();
      } finally {
        await emu.stop();
      }
    });
  });

  describe("CLI", () => {
    it("prints one JSON line with baseUrl and credentials, serves, and exits 0 on SIGTERM", async () => {
      const cli = path.join(__dirname, "emulator", "cli.js");
      const child = spawn(process.execPath, [cli, "--port", "0", "--fleet", "2"], { stdio: ["ignore", "pipe", "pipe"] });
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let out = "";
          child.stdout.setEncoding("utf8");
          child.stdout.on("data", (c: string) => {
            out += c;
            const nl = out.indexOf("\n");
            if (nl >= 0) resolve(out.slice(0, nl));
          });
          child.once("exit", (code) => reject(new Error(`cli exited early with ${code}`)));
        });
        const info = JSON.parse(line);
        assert.match(info.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.deepEqual(info.credentials, { ...DEMO_CREDENTIALS });
        assert.equal(info.fleet.length, 2);
        const r = await fetch(`${info.baseUrl}/cgi-bin/stable_token`, {
          method: "POST",
          body: JSON.stringify({ grant_type: "client_credential", appid: D.appId, secret: D.appSecret }),
        });
        assert.equal(typeof ((await r.json()) as { access_token?: unknown }).access_token, "string");
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
        child.kill("SIGTERM");
        assert.equal(await exited, 0);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    });
  });
});
