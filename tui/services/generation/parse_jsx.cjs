// Parses the JSX given on stdin with espree (the parser of the eslint in the analyzers
// folder, argv[2]) and prints one JSON line: {"ok": true} or where it stopped. Nothing of
// the text is run.
const { createRequire } = require("module");
const espree = createRequire(require("path").join(process.argv[2], "package.json"))("espree");
let source = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { source += chunk; });
process.stdin.on("end", () => {
  try {
    espree.parse(source, { ecmaVersion: "latest", sourceType: "module", ecmaFeatures: { jsx: true } });
    console.log(JSON.stringify({ ok: true }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, line: error.lineNumber, message: String(error.message).slice(0, 200) }));
  }
});
