import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as wechat from "pulumi-wechat";

/** One authorized account and the settings the platform keeps on it. */
interface FleetAccount {
  appId: string;
  locationReport?: 0 | 1 | 2;
  voiceRecognize?: 0 | 1;
  customerService?: 0 | 1;
  /** CloudBase environment whose `wechatPush` function receives the account's messages. */
  cloudbaseEnv?: string;
}

const config = new pulumi.Config();
// The fleet comes from stack config (`accounts`, a JSON list) or, for thousands of accounts, a JSON file.
const accountsFile = config.get("accountsFile");
const accounts: FleetAccount[] = accountsFile
  ? JSON.parse(fs.readFileSync(path.resolve(accountsFile), "utf8"))
  : config.requireObject<FleetAccount[]>("accounts");

const options = [
  ["location_report", "locationReport"],
  ["voice_recognize", "voiceRecognize"],
  ["customer_service", "customerService"],
] as const;

for (const account of accounts) {
  for (const [optionName, key] of options) {
    const optionValue = account[key];
    if (optionValue === undefined) continue;
    new wechat.AuthorizerOption(`${account.appId}-${optionName}`, { authorizerAppId: account.appId, optionName, optionValue });
  }
  if (account.cloudbaseEnv) {
    new wechat.CallbackConfig(`${account.appId}-push`, {
      authorizerAppId: account.appId,
      functionConfig: {
        enable: true,
        callbacks: [
          { msgType: "text", env: account.cloudbaseEnv, functionName: "wechatPush", enable: true },
          { msgType: "event", event: "user_enter_tempsession", env: account.cloudbaseEnv, functionName: "wechatPush", enable: true },
        ],
      },
      // If the platform stops managing an account, switch its push off rather than leave it pointing at us.
      deleteBehavior: "disable",
    });
  }
}

export const managedAccounts = accounts.length;
