/**
 * What the other suites rely on the WeChat API emulator (test/emulator) doing right, over real HTTP.
 */
import * as assert from "node:assert/strict";
import * as http from "node:http";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { DEMO_CREDENTIALS as D, WeChatEmulator } from "./emulator/server";

const STABLE_TOKEN = "/cgi-bin/stable_token";
const COMPONENT_TOKEN = "/cgi-bin/component/api_component_token";
const SET_OPTION = "/cgi-bin/component/set_authorizer_option";
const GET_OPTION = "/cgi-bin/component/get_authorizer_option";
const SET_PUSH = "/tcb/setcallbackconfig";
const GET_PUSH = "/tcb/getcallbackconfig";
/** Has its own secret and has authorized no platform. */
const LONELY = "wx00000000000000aa";

interface Reply {
  status: number;
  text: string;
  /** The parsed answer, undefined when it is not JSON; each test checks the fields it expects. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let emu: WeChatEmulator;
let base: string;

async function call(
  pathAndQuery: string,
  body?: unknown,
  init: { method?: string; raw?: string; signal?: AbortSignal } = {},
): Promise<Reply> {
  const res = await fetch(base + pathAndQuery, {
    method: init.method ?? "POST",
    body: init.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: init.signal,
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

const api = (endpoint: string, token: string, body: unknown, init?: { signal?: AbortSignal }) =>
  call(`${endpoint}?access_token=${token}`, body, init);
const stable = (fields: Record<string, unknown> = {}) =>
  call(STABLE_TOKEN, { grant_type: "client_credential", appid: D.appId, secret: D.appSecret, force_refresh: false, ...fields });
const componentToken = async () =>
  (
    await call(COMPONENT_TOKEN, {
      component_appid: D.componentAppId,
      component_appsecret: D.componentAppSecret,
      component_verify_ticket: D.componentVerifyTicket,
    })
  ).json.component_access_token as string;
const authorizerToken = (componentAccessToken: string, fields: Record<string, unknown> = {}) =>
  call(`/cgi-bin/component/api_authorizer_token?component_access_token=${componentAccessToken}`, {
    component_appid: D.componentAppId,
    authorizer_appid: D.appId,
    authorizer_refresh_token: D.authorizerRefreshToken,
    ...fields,
  });
const setLocation = (token: string, value: string, init?: { signal?: AbortSignal }) =>
  api(SET_OPTION, token, { option_name: "location_report", option_value: value }, init);
const getOption = async (token: string) => (await api(GET_OPTION, token, { option_name: "location_report" })).json;

describe("WeChat API emulator", function () {
  this.timeout(10_000);
  beforeEach(async () => {
    emu = new WeChatEmulator();
    emu.addDemo();
    emu.addAccount({ appId: LONELY, appSecret: "lonely-secret" });
    base = await emu.start();
  });
  afterEach(() => emu.stop());

  describe("stable_token", () => {
    it("answers a token valid 7200 s, and no errcode", async () => {
      const r = await stable();
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.json).sort(), ["access_token", "expires_in"]);
      assert.equal(r.json.expires_in, 7200);
      assert.equal((await getOption(r.json.access_token)).errcode, 0);
    });

    it("answers the same token while it is valid, force_refresh false or left out", async () => {
      const first = (await stable()).json.access_token;
      assert.equal((await stable()).json.access_token, first);
      assert.equal((await stable({ force_refresh: undefined })).json.access_token, first);
    });

    it("answers a new token once the current one has expired; the expired one answers 42001", async () => {
      const expired = (await stable()).json.access_token;
      emu.expireTokens(D.appId);
      const fresh = (await stable()).json.access_token;
      assert.notEqual(fresh, expired);
      assert.equal((await getOption(expired)).errcode, 42001);
      assert.equal((await getOption(fresh)).errcode, 0);
    });

    it("force_refresh: true mints a new token, and the previous one answers 40001", async () => {
      const previous = (await stable()).json.access_token;
      const forced = (await stable({ force_refresh: true })).json.access_token;
      assert.notEqual(forced, previous);
      assert.equal((await getOption(previous)).errcode, 40001);
      assert.equal((await stable()).json.access_token, forced);
    });

    it("rotateStableToken (another server forcing a refresh): the token held answers 40001, normal mode answers the new one", async () => {
      const held = (await stable()).json.access_token;
      const theirs = emu.rotateStableToken(D.appId);
      assert.equal((await getOption(held)).errcode, 40001);
      assert.equal((await stable()).json.access_token, theirs);
      assert.equal((await getOption(theirs)).errcode, 0, "asking in normal mode left their token valid");
    });

    it("appid missing: 41002", async () => {
      assert.equal((await stable({ appid: undefined })).json.errcode, 41002);
    });

    it("secret missing: 41004", async () => {
      assert.equal((await stable({ secret: undefined })).json.errcode, 41004);
    });

    it("an unknown appid: 40013", async () => {
      assert.equal((await stable({ appid: "wx1234567890abcdef" })).json.errcode, 40013);
    });

    it("a wrong secret: 40125", async () => {
      assert.equal((await stable({ secret: "wrong" })).json.errcode, 40125);
    });
  });

  describe("platform tokens", () => {
    it("api_component_token answers a component token valid 7200 s", async () => {
      const r = await call(COMPONENT_TOKEN, {
        component_appid: D.componentAppId,
        component_appsecret: D.componentAppSecret,
        component_verify_ticket: D.componentVerifyTicket,
      });
      assert.equal(typeof r.json.component_access_token, "string");
      assert.equal(r.json.expires_in, 7200);
    });

    it("a stale verify ticket: 61006", async () => {
      const r = await call(COMPONENT_TOKEN, {
        component_appid: D.componentAppId,
        component_appsecret: D.componentAppSecret,
        component_verify_ticket: "ticket@@@stale",
      });
      assert.equal(r.json.errcode, 61006);
    });

    it("api_authorizer_token answers a token of the account, and its refresh token", async () => {
      const r = await authorizerToken(await componentToken());
      assert.equal(r.json.expires_in, 7200);
      assert.equal(r.json.authorizer_refresh_token, D.authorizerRefreshToken);
      assert.equal(
        (await api(SET_OPTION, r.json.authorizer_access_token, { option_name: "voice_recognize", option_value: "1" })).json.errcode,
        0,
      );
      assert.equal(emu.options(D.appId).voice_recognize, "1");
    });

    it("a stale refresh token: 61023", async () => {
      assert.equal(
        (await authorizerToken(await componentToken(), { authorizer_refresh_token: "refreshtoken@@@stale" })).json.errcode,
        61023,
      );
    });

    it("an account that has not authorized the platform: 61003", async () => {
      assert.equal((await authorizerToken(await componentToken(), { authorizer_appid: LONELY })).json.errcode, 61003);
    });

    it("addFleet: the same authorized accounts in every emulator, each able to get a token", async () => {
      const fleet = emu.addFleet(D.componentAppId, 3);
      const other = new WeChatEmulator();
      other.addDemo();
      assert.deepEqual(other.addFleet(D.componentAppId, 3), fleet);
      assert.equal(new Set(fleet.map((a) => a.appId)).size, 3);
      const { appId, refreshToken } = fleet[2];
      const r = await authorizerToken(await componentToken(), { authorizer_appid: appId, authorizer_refresh_token: refreshToken });
      assert.equal(typeof r.json.authorizer_access_token, "string");
    });
  });

  describe("access tokens", () => {
    it("none: 41001", async () => {
      assert.equal((await call(GET_OPTION, { option_name: "location_report" })).json.errcode, 41001);
    });

    it("one the emulator never issued: 40001", async () => {
      assert.equal((await getOption("not-a-token")).errcode, 40001);
    });

    it("a component token where an authorizer token is needed: 40014", async () => {
      assert.equal((await getOption(await componentToken())).errcode, 40014);
    });

    it("issueAccessToken: a token of that account, and of no other", async () => {
      await api(SET_OPTION, emu.issueAccessToken(LONELY), { option_name: "location_report", option_value: "2" });
      assert.equal(emu.options(LONELY).location_report, "2");
      assert.equal(emu.options(D.appId).location_report, "0");
    });

    it("expireTokens: their next use answers 42001", async () => {
      const token = emu.issueAccessToken(D.appId);
      emu.expireTokens(D.appId);
      assert.equal((await getOption(token)).errcode, 42001);
    });

    it("revokeTokens: their next use answers 40001", async () => {
      const token = emu.issueAccessToken(D.appId);
      emu.revokeTokens(D.appId);
      assert.equal((await getOption(token)).errcode, 40001);
    });
  });

  describe("method and body checks", () => {
    it("GET: 43002 with HTTP 200, on token endpoints too", async () => {
      for (const p of [`${GET_PUSH}?access_token=${emu.issueAccessToken(D.appId)}`, STABLE_TOKEN]) {
        const r = await call(p, undefined, { method: "GET" });
        assert.equal(r.status, 200);
        assert.equal(r.json.errcode, 43002);
      }
    });

    it("an empty body: 44002", async () => {
      assert.equal((await api(GET_PUSH, emu.issueAccessToken(D.appId), undefined)).json.errcode, 44002);
    });

    it("a body that is not a JSON object: 47001", async () => {
      const token = emu.issueAccessToken(D.appId);
      assert.equal((await call(`${GET_PUSH}?access_token=${token}`, undefined, { raw: "{nope" })).json.errcode, 47001);
      assert.equal((await api(GET_PUSH, token, [1, 2])).json.errcode, 47001);
    });

    it("an unknown path: HTTP 404 with a JSON errcode", async () => {
      const r = await call("/cgi-bin/nothing", {});
      assert.equal(r.status, 404);
      assert.equal(typeof r.json.errcode, "number");
    });
  });

  describe("authorizer options", () => {
    let token: string;
    beforeEach(() => (token = emu.issueAccessToken(D.appId)));

    it('every option starts at "0"', async () => {
      for (const name of ["location_report", "voice_recognize", "customer_service"]) {
        const r = await api(GET_OPTION, token, { option_name: name });
        assert.deepEqual(r.json, { errcode: 0, errmsg: "ok", option_name: name, option_value: "0" });
      }
    });

    it("a set answers ok, and get and options() then hold the value", async () => {
      assert.deepEqual((await setLocation(token, "2")).json, {
        errcode: 0,
        errmsg: "ok",
      });
      assert.equal((await getOption(token)).option_value, "2");
      assert.deepEqual(emu.options(D.appId), { location_report: "2", voice_recognize: "0", customer_service: "0" });
    });

    it("option_name or option_value missing: 40101", async () => {
      assert.equal((await api(SET_OPTION, token, { option_name: "voice_recognize" })).json.errcode, 40101);
      assert.equal((await api(SET_OPTION, token, { option_value: "1" })).json.errcode, 40101);
      assert.equal((await api(GET_OPTION, token, {})).json.errcode, 40101);
    });

    it("an unknown option, a value outside its set, or a value that is no string: 47001, and nothing changes", async () => {
      for (const [option_name, option_value] of [
        ["auto_reply", "1"],
        ["location_report", "3"],
        ["voice_recognize", "2"],
        ["customer_service", 1],
      ]) {
        assert.equal((await api(SET_OPTION, token, { option_name, option_value })).json.errcode, 47001, `${option_name}=${option_value}`);
      }
      assert.equal((await api(GET_OPTION, token, { option_name: "toString" })).json.errcode, 47001);
      assert.deepEqual(emu.options(D.appId), { location_report: "0", voice_recognize: "0", customer_service: "0" });
    });

    it("setOption (out of band) is what get answers, and allows only the API's values", async () => {
      emu.setOption(D.appId, "voice_recognize", "1");
      assert.equal((await api(GET_OPTION, token, { option_name: "voice_recognize" })).json.option_value, "1");
      assert.throws(() => emu.setOption(D.appId, "voice_recognize", "2"));
    });
  });

  describe("callback config", () => {
    const functions = {
      enable: true,
      callbacks: [
        { msgType: "event", event: "user_enter_tempsession", env: "test-env", functionName: "callback", enable: false },
        { msgType: "image", event: "", env: "test-env", functionName: "callback", enable: true },
      ],
    };
    const container = { enable: true, qbase_env: "test-env", qbase_container_path: "/container-echo", text_mode: 1 };
    let token: string;
    beforeEach(() => (token = emu.issueAccessToken(D.appId)));

    it("get answers the sections in `data`, disabled and empty on a new account", async () => {
      assert.deepEqual((await api(GET_PUSH, token, {})).json, {
        errcode: 0,
        errmsg: "ok",
        data: {
          function_config: { enable: false, callbacks: [] },
          container_config: { enable: false, qbase_env: "", qbase_container_path: "", text_mode: 1 },
        },
      });
    });

    it("a set answers ok, and get and callbackConfig() then hold both sections", async () => {
      const config = { function_config: functions, container_config: container };
      assert.deepEqual((await api(SET_PUSH, token, config)).json, { errcode: 0, errmsg: "ok" });
      assert.deepEqual((await api(GET_PUSH, token, {})).json.data, config);
      assert.deepEqual(emu.callbackConfig(D.appId), config);
    });

    it("a section left out is not updated", async () => {
      await api(SET_PUSH, token, { function_config: functions, container_config: container });
      await api(SET_PUSH, token, { container_config: { ...container, text_mode: 2 } });
      assert.deepEqual(emu.callbackConfig(D.appId), { function_config: functions, container_config: { ...container, text_mode: 2 } });
      await api(SET_PUSH, token, { function_config: { enable: false, callbacks: [] } });
      assert.deepEqual(emu.callbackConfig(D.appId).container_config, { ...container, text_mode: 2 });
    });

    it("both sections left out, or a key of a section: 40101", async () => {
      assert.equal((await api(SET_PUSH, token, {})).json.errcode, 40101);
      const { text_mode: _left, ...noTextMode } = container;
      assert.equal((await api(SET_PUSH, token, { container_config: noTextMode })).json.errcode, 40101);
    });

    it("a malformed section: 47001, and nothing changes", async () => {
      const rule = functions.callbacks[1];
      for (const body of [
        { container_config: { ...container, text_mode: 3 } },
        { container_config: { ...container, text_mode: "1" } },
        { container_config: { enable: true, qbase_env: "e", "qbase_container_path ": "/x", text_mode: 1 } },
        { container_config: null },
        { function_config: { enable: true, callbacks: {} } },
        { function_config: { enable: true, callbacks: [{ ...rule, extra: 1 }] } },
        { function_config: { enable: true, callbacks: [{ ...rule, enable: 1 }] } },
        { function_config: { enable: true, callbacks: [{ ...rule, event: "subscribe" }] } },
        { functionConfig: functions },
      ]) {
        assert.equal((await api(SET_PUSH, token, body)).json.errcode, 47001, JSON.stringify(body));
      }
      assert.deepEqual(emu.callbackConfig(D.appId), emu.callbackConfig(LONELY));
    });

    it("setCallbackConfig (out of band) changes only the fields it names", async () => {
      emu.setCallbackConfig(D.appId, { container_config: { enable: true, qbase_env: "drifted" } });
      assert.deepEqual((await api(GET_PUSH, token, {})).json.data.container_config, {
        enable: true,
        qbase_env: "drifted",
        qbase_container_path: "",
        text_mode: 1,
      });
    });
  });

  describe("fault answers", () => {
    let token: string;
    beforeEach(() => (token = emu.issueAccessToken(D.appId)));

    it("errcode: HTTP 200 with the errcode and its errmsg, and the request is not applied", async () => {
      emu.injectFault({ path: SET_OPTION, errcode: 45011 });
      const r = await setLocation(token, "1");
      assert.equal(r.status, 200);
      assert.equal(r.json.errcode, 45011);
      assert.match(r.json.errmsg, /^api minute-quota reach limit .* rid: [0-9a-f]{24}$/);
      assert.equal(emu.options(D.appId).location_report, "0");
    });

    it("errcode alone: the table's errmsg, for the codes the provider handles too", async () => {
      const expected: Record<number, RegExp> = {
        41002: /^appid missing/,
        41004: /^appsecret missing/,
        61007: /^api is unauthorized to component/,
        89503: /^this IP needs the admin's confirmation/,
        89506: /^the admin refused this IP, retry after 24 hours/,
        89507: /^the admin refused this IP, retry after 1 hour/,
      };
      for (const [errcode, errmsg] of Object.entries(expected)) {
        emu.injectFault({ errcode: Number(errcode), times: 1 });
        assert.match((await getOption(token)).errmsg, errmsg);
      }
    });

    it("errcode with an errmsg: that errmsg verbatim, escape sequences and control characters included", async () => {
      const errmsg = "\u001b[31minvalid ip\u001b[0m 10.0.0.1\r\n\t\u0000\u0007\u007f not in whitelist";
      emu.injectFault({ errcode: 40164, errmsg });
      assert.deepEqual(await getOption(token), { errcode: 40164, errmsg });
    });

    it("httpStatus: that status with an HTML body", async () => {
      emu.injectFault({ httpStatus: 502 });
      const r = await api(GET_PUSH, token, {});
      assert.equal(r.status, 502);
      assert.equal(r.json, undefined);
      assert.match(r.text, /<title>502 Bad Gateway<\/title>/);
    });

    it("drop: the connection closes without an answer, and the request is not applied", async () => {
      emu.injectFault({ drop: true });
      await assert.rejects(setLocation(token, "1"));
      assert.equal(emu.options(D.appId).location_report, "0");
    });

    it("body: HTTP 200 with exactly that JSON body, logged with its errcode when it is a number", async () => {
      const bodies = [{ errcode: 0, option_value: null }, { errcode: 0, data: {} }, { errcode: "system busy" }, { errcode: null }];
      for (const body of bodies) {
        emu.injectFault({ path: GET_OPTION, body, times: 1 });
        const r = await api(GET_OPTION, token, { option_name: "location_report" });
        assert.equal(r.status, 200);
        assert.deepEqual(r.json, body);
      }
      assert.deepEqual(
        emu.requests.map((r) => [r.fault, r.errcode]),
        [
          ["body", 0],
          ["body", 0],
          ["body", undefined],
          ["body", undefined],
        ],
      );
    });

    it("body as a string: that raw text; with times, WeChat's own answer after that many", async () => {
      emu.injectFault({ path: GET_OPTION, body: "<html>upstream busy</html>", times: 2 });
      const texts: string[] = [];
      for (let i = 0; i < 3; i++) texts.push((await api(GET_OPTION, token, { option_name: "location_report" })).text);
      assert.deepEqual(texts.slice(0, 2), ["<html>upstream busy</html>", "<html>upstream busy</html>"]);
      assert.equal(JSON.parse(texts[2]).option_value, "0");
    });

    it("body with afterApply: the request is applied, then that body answers", async () => {
      emu.injectFault({ path: SET_OPTION, body: { errcode: 0 }, afterApply: true, times: 1 });
      assert.deepEqual((await setLocation(token, "2")).json, { errcode: 0 });
      assert.equal(emu.options(D.appId).location_report, "2");
    });

    it("delayMs alone: WeChat's own answer, late", async () => {
      emu.injectFault({ delayMs: 250 });
      const started = Date.now();
      assert.equal((await getOption(token)).errcode, 0);
      assert.ok(Date.now() - started >= 240, "the answer came early");
    });

    it("setLatency: every answer that much later", async () => {
      emu.setLatency(150);
      const started = Date.now();
      await getOption(token);
      assert.ok(Date.now() - started >= 140, "the answer came early");
    });

    it("a rule answers one way", () => {
      assert.throws(() => emu.injectFault({ errcode: -1, httpStatus: 502 }), /one way/);
      assert.throws(() => emu.injectFault({ errcode: 0, body: {} }), /one way/);
    });
  });

  describe("a set that WeChat applied, whose answer never arrived", () => {
    let token: string;
    beforeEach(() => (token = emu.issueAccessToken(D.appId)));

    it("afterApply: the request is applied, then the fault answers", async () => {
      emu.injectFault({ path: SET_OPTION, errcode: -1, afterApply: true });
      assert.equal((await setLocation(token, "2")).json.errcode, -1);
      assert.equal(emu.options(D.appId).location_report, "2");
    });

    it("afterApply with drop: applied, then the connection closes without an answer", async () => {
      emu.injectFault({ path: SET_OPTION, drop: true, afterApply: true });
      await assert.rejects(setLocation(token, "2"), TypeError);
      assert.equal(emu.options(D.appId).location_report, "2");
    });

    it("afterApply with a delay longer than the client waits: applied before the client gives up", async () => {
      emu.injectFault({ path: SET_OPTION, errcode: -1, delayMs: 2000, afterApply: true });
      await assert.rejects(setLocation(token, "2", { signal: AbortSignal.timeout(200) }), { name: "TimeoutError" });
      assert.equal(emu.options(D.appId).location_report, "2");
    });

    it("without afterApply, a late fault applies nothing", async () => {
      emu.injectFault({ path: SET_OPTION, drop: true, delayMs: 300 });
      await assert.rejects(setLocation(token, "2"), TypeError);
      assert.equal(emu.options(D.appId).location_report, "0");
    });
  });

  describe("which requests a fault hits", () => {
    let token: string;
    beforeEach(() => (token = emu.issueAccessToken(D.appId)));

    it("path: a string matches exactly, a RegExp by test, token endpoints too", async () => {
      emu.injectFault({ path: GET_OPTION, errcode: 45009 });
      emu.injectFault({ path: /stable_token$/, httpStatus: 503 });
      assert.equal((await getOption(token)).errcode, 45009);
      assert.equal((await api(GET_PUSH, token, {})).json.errcode, 0);
      assert.equal((await stable()).status, 503);
    });

    it("appId: only that account's requests, until remove()", async () => {
      const rule = emu.injectFault({ appId: LONELY, errcode: 48001 });
      const lonely = emu.issueAccessToken(LONELY);
      assert.equal((await getOption(token)).errcode, 0);
      assert.equal((await getOption(lonely)).errcode, 48001);
      rule.remove();
      assert.equal((await getOption(lonely)).errcode, 0);
    });

    it("times: that many matching requests, then no more", async () => {
      emu.injectFault({ errcode: -1, times: 2 });
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await getOption(token)).errcode);
      assert.deepEqual(codes, [-1, -1, 0, 0]);
    });
  });

  describe("random faults", () => {
    let token: string;
    beforeEach(() => (token = emu.issueAccessToken(D.appId)));
    const outcomes = async (n: number) => {
      const seen: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await api(GET_OPTION, token, { option_name: "location_report" }).catch(() => undefined);
        seen.push(r === undefined ? "drop" : r.status !== 200 ? `http:${r.status}` : `errcode:${r.json.errcode}`);
      }
      return seen;
    };

    it("the same seed fails the same requests, with the transient kinds only; rate 0 turns them off", async () => {
      emu.setRandomFaults({ rate: 0.5, seed: 99 });
      const first = await outcomes(30);
      emu.setRandomFaults({ rate: 0.5, seed: 99 });
      assert.deepEqual(await outcomes(30), first);
      const transient = new Set(["errcode:0", "errcode:-1", "errcode:-1000", "errcode:45011", "http:500", "http:502", "http:503", "drop"]);
      assert.deepEqual(
        first.filter((o) => !transient.has(o)),
        [],
      );
      assert.ok(first.includes("errcode:0") && first.some((o) => o !== "errcode:0"), first.join(" "));
      emu.setRandomFaults({ rate: 0 });
      assert.deepEqual(await outcomes(5), Array(5).fill("errcode:0"));
    });

    it("afterApplyShare: that share of the random faults is applied first, and still fails the answer", async () => {
      /** A set whose answer fails (dropped, a gateway error or an errcode), with its fault in the request log. */
      const failedSet = async (value: string, faultsSoFar: number) => {
        const answer = await setLocation(token, value).catch(() => undefined);
        assert.ok(answer === undefined || answer.status !== 200 || answer.json.errcode !== 0, "the answer fails");
        assert.equal(emu.filter({ path: SET_OPTION, fault: true }).length, faultsSoFar, "the fault is logged");
      };
      emu.setRandomFaults({ rate: 1, afterApplyShare: 1 });
      await failedSet("1", 1);
      assert.equal(emu.options(D.appId).location_report, "1");
      emu.setRandomFaults({ rate: 1, afterApplyShare: 0 });
      await failedSet("2", 2);
      assert.equal(emu.options(D.appId).location_report, "1");
    });

    it("faultCounts: by label, and total; clearFaults keeps them, reset clears them", async () => {
      emu.injectFault({ path: GET_OPTION, errcode: 45009, times: 2 });
      emu.injectFault({ path: GET_PUSH, httpStatus: 500 });
      await outcomes(3);
      await api(GET_PUSH, token, {});
      emu.clearFaults();
      assert.equal((await api(GET_PUSH, token, {})).status, 200);
      assert.deepEqual(emu.faultCounts(), { "errcode:45009": 2, "http:500": 1, total: 3 });
      emu.reset();
      assert.deepEqual(emu.faultCounts(), {});
    });
  });

  describe("request log", () => {
    it("records each API request: path, kind, account, token, body, errcode and fault", async () => {
      const token = emu.issueAccessToken(D.appId);
      await setLocation(token, "1");
      await stable();
      emu.injectFault({ path: GET_PUSH, errcode: -1000 });
      await call(`${GET_PUSH}?access_token=${token}`, undefined, { raw: "not json" });
      const [set, stableCall, get] = emu.requests;
      assert.deepEqual(set, {
        path: SET_OPTION,
        kind: "set",
        appId: D.appId,
        token,
        tokenKind: "authorizer",
        tokenSource: "issued",
        body: { option_name: "location_report", option_value: "1" },
        errcode: 0,
      });
      assert.equal(stableCall.appId, D.appId, "a token endpoint's account is the one its body names");
      assert.equal(stableCall.errcode, 0);
      assert.equal(get.body, "not json");
      assert.equal(get.fault, "errcode:-1000");
      assert.equal(emu.requests.length, 3);
    });

    it("callCounts: by kind, faulted requests and unknown paths included; clearRequests starts over", async () => {
      const token = emu.issueAccessToken(D.appId);
      emu.injectFault({ path: GET_OPTION, drop: true });
      await getOption(token).catch(() => undefined);
      await api(SET_PUSH, token, {});
      await stable();
      await call("/cgi-bin/nothing", {});
      assert.deepEqual(emu.callCounts(), { set: 1, get: 1, token: 1, total: 4 });
      emu.clearRequests();
      assert.deepEqual(emu.callCounts(), { set: 0, get: 0, token: 0, total: 0 });
      assert.equal(emu.requests.length, 0);
    });

    it("filter: by path, kind, errcode and fault", async () => {
      const token = emu.issueAccessToken(D.appId);
      emu.injectFault({ path: GET_PUSH, errcode: 45011, times: 1 });
      await api(GET_PUSH, token, {});
      await api(GET_PUSH, token, {});
      await getOption("not-a-token");
      assert.equal(emu.filter({ path: GET_PUSH }).length, 2);
      assert.equal(emu.filter({ path: /option$/ }).length, 1);
      assert.equal(emu.filter({ kind: "get", errcode: 40001 }).length, 1);
      assert.deepEqual(
        emu.filter({ fault: true }).map((r) => r.errcode),
        [45011],
      );
      assert.equal(emu.filter({ fault: false }).length, 2);
      assert.equal(emu.requests.filter((r) => r.token === token).length, 2);
    });

    it("logRequests: false keeps only callCounts", async () => {
      await emu.stop();
      emu = new WeChatEmulator({ logRequests: false });
      emu.addDemo();
      base = await emu.start();
      await stable();
      assert.equal(emu.requests.length, 0);
      assert.equal(emu.callCounts().token, 1);
    });

    it("reset: settings back to the defaults, log and faults cleared, tokens kept unless `tokens: true`", async () => {
      const token = emu.issueAccessToken(D.appId);
      await setLocation(token, "2");
      emu.injectFault({ path: GET_PUSH, httpStatus: 503 });
      emu.reset();
      assert.equal(emu.options(D.appId).location_report, "0");
      assert.equal(emu.requests.length, 0);
      assert.equal((await api(GET_PUSH, token, {})).json.errcode, 0);
      emu.reset({ tokens: true });
      assert.equal((await getOption(token)).errcode, 40001);
    });
  });

  describe("GET /__emulator/state", () => {
    it("answers every account's settings, and is not logged", async () => {
      emu.setOption(D.appId, "location_report", "1");
      const r = await call("/__emulator/state", undefined, { method: "GET" });
      assert.deepEqual(r.json, JSON.parse(JSON.stringify(emu.state())));
      assert.equal(r.json.accounts[D.appId].options.location_report, "1");
      assert.equal(emu.requests.length, 0);
    });

    it("is the only control endpoint: other paths under /__emulator/ answer 404, and are not logged either", async () => {
      assert.equal((await call("/__emulator/faults", { errcode: 45011 })).status, 404);
      assert.equal((await call("/__emulator/state", {})).status, 404);
      assert.equal(emu.requests.length, 0);
    });
  });

  describe("server", () => {
    it("stop() returns promptly with an idle keep-alive connection open", async () => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        await new Promise<void>((resolve, reject) =>
          http
            .get(`${base}/__emulator/state`, { agent }, (res) => res.resume().on("end", resolve))
            .on("error", reject)
            .end(),
        );
        const started = Date.now();
        await emu.stop();
        assert.ok(Date.now() - started < 1000, "stop() waited for the idle connection");
      } finally {
        agent.destroy();
      }
    });

    it("answers 1000 concurrent requests", async () => {
      const token = emu.issueAccessToken(D.appId);
      const codes = await Promise.all(Array.from({ length: 1000 }, async () => (await getOption(token)).errcode));
      assert.deepEqual(new Set(codes), new Set([0]));
      assert.equal(emu.callCounts().get, 1000);
    });
  });

  describe("CLI (npm run emulator)", () => {
    const cli = path.join(__dirname, "emulator", "cli.js");

    it("prints one JSON line with baseUrl, credentials and fleet, serves with --latency, and exits 0 on SIGTERM", async () => {
      const child = spawn(process.execPath, [cli, "--port", "0", "--fleet", "2", "--latency=200"], { stdio: ["ignore", "pipe", "pipe"] });
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let out = "";
          child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
            out += chunk;
            if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
          });
          child.once("exit", (code) => reject(new Error(`the CLI exited early with ${code}`)));
        });
        const info = JSON.parse(line);
        assert.match(info.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.deepEqual(info.credentials, { ...D });
        assert.equal(info.fleet.length, 2);
        base = info.baseUrl;
        const started = Date.now();
        assert.equal(typeof (await stable()).json.access_token, "string");
        assert.ok(Date.now() - started >= 190, "--latency was not applied");
        const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        assert.equal(await exited, 0);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    });

    it("exits 2 with the usage on an unknown argument", async () => {
      const child = spawn(process.execPath, [cli, "--state-file", "x"], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
      assert.equal(await new Promise((resolve) => child.once("exit", resolve)), 2);
      assert.match(err, /unknown argument --state-file\nusage: npm run emulator/);
    });
  });
});
