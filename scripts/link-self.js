// Makes `require("pulumi-wechat")` resolve inside this repository exactly as it does for users, so the
// examples and tests import the package by its name. npm never links a package into its own
// node_modules, and a symlink is the layout `npm link` users get, which the SDK must handle anyway.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const link = path.join(root, "node_modules", "pulumi-wechat");
fs.mkdirSync(path.dirname(link), { recursive: true });
try {
  const existing = fs.lstatSync(link);
  if (existing.isSymbolicLink() && fs.realpathSync(link) === root) return;
  fs.rmSync(link, { recursive: true, force: true });
} catch (error) {
  if (error.code !== "ENOENT") throw error;
}
fs.symlinkSync(path.relative(path.dirname(link), root), link, "dir");
