// Runs the reference board's firmware inside real MicroPython (the official
// WebAssembly build) for the simulator and the tests.
//
//   node host.mjs serve FIRMWARE_DIR        one request a line on stdin, one answer a line
//                                           on stdout (firmware/hal/sim_wire.py)
//   node host.mjs run FIRMWARE_DIR SCRIPT   run a MicroPython script with the firmware importable
//
// The firmware's files are copied unchanged into MicroPython's filesystem under
// /lib/firmware; only the files a board runs are copied (not tools/, not hal/port.py),
// as source (.py) or compiled by mpy-cross (.mpy: what `python -m firmware build` deploys).
// The first line of `serve` is "ready micropython X.Y.Z"; Python's own output goes to stderr.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";

const [mode, firmwareDir, script] = process.argv.slice(2);
const heapKiB = Number(process.env.LOCKER_MICROPYTHON_HEAP_KIB || 512);
const toStderr = (line) => process.stderr.write(line + "\n");
const mp = await loadMicroPython({
  heapsize: heapKiB * 1024,
  stdout: mode === "run" ? (line) => process.stdout.write(line + "\n") : toStderr,
  stderr: toStderr,
});

function copyTree(from, to) {
  mp.FS.mkdirTree(to);
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (entry.name !== "tools" && entry.name !== "__pycache__") {
        copyTree(path.join(from, entry.name), to + "/" + entry.name);
      }
    } else if (/\.m?py$/.test(entry.name) && !["port.py", "__main__.py"].includes(entry.name)) {
      mp.FS.writeFile(to + "/" + entry.name, fs.readFileSync(path.join(from, entry.name)));
    }
  }
}

copyTree(firmwareDir, "/lib/firmware");
mp.runPython("import sys\nsys.path.insert(0, '/lib')\n_version = '.'.join(str(p) for p in sys.implementation.version[:3])");
const version = mp.globals.get("_version");

if (mode === "run") {
  try {
    mp.runPython(fs.readFileSync(script, "utf8"));
  } catch (error) {
    process.stderr.write(String(error.message || error) + "\n");
    process.exit(1);
  }
} else if (mode === "serve") {
  mp.runPython("from firmware.hal import sim_wire");
  const call = mp.globals.get("sim_wire").call;
  process.stdout.write(`ready micropython ${version}\n`);
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === "") continue;
    let answer;
    try {
      answer = call(line);
    } catch (error) {
      answer = "error host " + String(error.message || error).split("\n").join(" ");
    }
    process.stdout.write(answer + "\n");
  }
} else {
  process.stderr.write("usage: node host.mjs serve|run FIRMWARE_DIR [SCRIPT]\n");
  process.exit(2);
}
