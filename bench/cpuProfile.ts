/**
 * `node --require dist/bench/cpuProfile.js`, through NODE_OPTIONS (where Node does not allow --cpu-prof): profiles
 * the process it is loaded into when its command line contains BENCH_CPU_PROF_MATCH (default: the dynamic-provider
 * host), and writes a .cpuprofile (Chrome DevTools, speedscope) into BENCH_CPU_PROF_DIR when the process is stopped
 * or exits. `npm run bench -- --cpu-prof DIR` sets this up; other processes load the file and do nothing.
 */
import * as fs from "node:fs";
import * as inspector from "node:inspector";
import * as path from "node:path";

const dir = process.env.BENCH_CPU_PROF_DIR;
const match = process.env.BENCH_CPU_PROF_MATCH || "cmd/dynamic-provider";
if (dir && process.argv.some((arg) => arg.includes(match))) {
  const name = path.basename(match.replace(/\/index\.js$/, ""));
  const session = new inspector.Session();
  session.connect();
  // A session on the process's own thread answers synchronously, which is what lets the profile be written from
  // an "exit" handler.
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 250 });
  session.post("Profiler.start");
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    session.post("Profiler.stop", (error, result) => {
      if (error) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.on("exit", write);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      write();
      process.exit(0);
    });
  }
}
