import * as pulumi from "@pulumi/pulumi";
import * as wechat from "pulumi-wechat";

const config = new pulumi.Config();
const authorizerAppId = config.require("authorizerAppId");

// The CloudBase environment usually lives in another stack (the one that creates it): read its outputs through a
// StackReference. Without one, take the environment id from this stack's config.
const environmentStack = config.get("environmentStack");
const environment = environmentStack ? new pulumi.StackReference(environmentStack) : undefined;
const envId: pulumi.Input<string> = environment ? environment.requireOutput("envId").apply(String) : config.require("envId");
const containerPath: pulumi.Input<string> = environment
  ? environment.getOutput("containerPath").apply((value) => (typeof value === "string" ? value : "/wechat-push"))
  : (config.get("containerPath") ?? "/wechat-push");

const push = new wechat.CallbackConfig("message-push", {
  authorizerAppId,
  functionConfig: {
    enable: true,
    callbacks: [
      { msgType: "text", env: envId, functionName: "onMessage", enable: true },
      { msgType: "image", env: envId, functionName: "onMessage", enable: true },
      { msgType: "event", event: "user_enter_tempsession", env: envId, functionName: "onEnterSession", enable: true },
    ],
  },
  containerConfig: { enable: true, qbaseEnv: envId, qbaseContainerPath: containerPath, textMode: 1 },
  // Destroying this stack puts back the routing the account had before.
  deleteBehavior: "restore",
});

export const routedTo = envId;
export const previousConfig = push.previousConfig;
