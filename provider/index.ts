/**
 * `pulumi-wechat/provider`: what runs inside Pulumi's dynamic-provider host. Programs import the resource classes
 * from `pulumi-wechat`; this entry point is for tools and tests that drive the provider directly.
 */
export * as authorizerOption from "./authorizerOption";
export * as callbackConfig from "./callbackConfig";
export { WeChatClient } from "./client";
export { DEFAULT_API_BASE_URL, DEFAULT_TUNING, SETTINGS, readProviderConfig } from "./config";
export { ERRCODES, WeChatApiError, WeChatConfigError, WeChatTransportError, adviceFor, redact } from "./errors";
export { configureSession, session } from "./session";
