#!/usr/bin/env node
/**
 * The `dev` stack's token command (`wechat:tokenCommand: node token-command.js`): a stand-in for a third-party
 * platform's own token service, in front of the WeChat API emulator's demo platform.
 *
 * pulumi-wechat runs it once per authorized account per run, in the program's directory, with WECHAT_TOKEN_KIND
 * (`authorizer`) and WECHAT_TOKEN_APP_ID (the account's appid) in its environment, and reads one JSON object from
 * its standard output: {"access_token": "...", "expires_in": 7200}. A non-zero exit, or anything else printed,
 * fails that account's resources; what it prints is never shown.
 *
 * A real one asks your token service, which keeps each account's refresh token and receives the verify ticket WeChat
 * pushes every 10 minutes. This one keeps them in token-service.dev.json (or the file TOKEN_SERVICE_CONFIG names) and
 * asks the platform endpoints itself.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function post(service, endpoint, query, body) {
  const url = new URL(service.apiBaseUrl + endpoint);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const answer = await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json();
  if (answer.errcode) throw new Error(`${endpoint} answered errcode ${answer.errcode}`);
  return answer;
}

async function main() {
  const { WECHAT_TOKEN_KIND: kind, WECHAT_TOKEN_APP_ID: appId } = process.env;
  if (kind !== "authorizer") throw new Error(`this token service issues authorizer tokens, not ${kind}`);
  const file = process.env.TOKEN_SERVICE_CONFIG || path.join(__dirname, "token-service.dev.json");
  const service = JSON.parse(fs.readFileSync(file, "utf8"));
  const refreshToken = service.refreshTokens[appId];
  if (!refreshToken) throw new Error(`no refresh token for ${appId}`);
  const component = await post(
    service,
    "/cgi-bin/component/api_component_token",
    {},
    {
      component_appid: service.componentAppId,
      component_appsecret: service.componentAppSecret,
      component_verify_ticket: service.componentVerifyTicket,
    },
  );
  const authorizer = await post(
    service,
    "/cgi-bin/component/api_authorizer_token",
    { component_access_token: component.component_access_token },
    { component_appid: service.componentAppId, authorizer_appid: appId, authorizer_refresh_token: refreshToken },
  );
  process.stdout.write(JSON.stringify({ access_token: authorizer.authorizer_access_token, expires_in: authorizer.expires_in }));
}

main().catch((error) => {
  // Only the reason, never a token: pulumi-wechat reports the exit status, and this line is for whoever runs it by hand.
  process.stderr.write(`token-command: ${error.message}\n`);
  process.exit(1);
});
