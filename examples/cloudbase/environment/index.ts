// A stand-in for the stack that creates the CloudBase environment (with the tencentcloud provider, say). The
// wechat-cloudbase program reads these two outputs through a StackReference; here they come from config.
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();

/** The CloudBase environment id that receives the account's messages. */
export const envId: string = config.get("envId") ?? "prod-6gni9ity244a6ea3";
/** The path of the cloud-hosting container service that messages are posted to. */
export const containerPath: string = config.get("containerPath") ?? "/wechat-push";
