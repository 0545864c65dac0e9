import * as pulumi from "@pulumi/pulumi";
import * as wechat from "pulumi-wechat";

const config = new pulumi.Config();
// The authorized account to manage, and the CloudBase environment that receives its messages.
const authorizerAppId = config.require("authorizerAppId");
const cloudbaseEnv = config.get("cloudbaseEnv") ?? "prod-6gni9ity244a6ea3";

// Report the user's location when they enter a session; speech recognition on; one customer-service inbox.
const location = new wechat.AuthorizerOption("location-report", {
  authorizerAppId,
  optionName: "location_report",
  optionValue: 1,
});
new wechat.AuthorizerOption("voice-recognize", { authorizerAppId, optionName: "voice_recognize", optionValue: 1 });
new wechat.AuthorizerOption("customer-service", {
  authorizerAppId,
  optionName: "customer_service",
  optionValue: 0,
  // On `pulumi destroy`, put back whatever the account had before this program took the option over.
  deleteBehavior: "restore",
});

// Route "user entered a customer-service session" events to a cloud function, and text messages to a container.
const push = new wechat.CallbackConfig("message-push", {
  authorizerAppId,
  functionConfig: {
    enable: true,
    callbacks: [{ msgType: "event", event: "user_enter_tempsession", env: cloudbaseEnv, functionName: "onEnterSession", enable: true }],
  },
  containerConfig: { enable: true, qbaseEnv: cloudbaseEnv, qbaseContainerPath: "/wechat-push", textMode: 1 },
});

export const locationReport = location.optionValue;
export const locationBefore = location.previousValue;
export const pushConfigId = push.id;
