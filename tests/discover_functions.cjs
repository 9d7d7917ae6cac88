// Prints, as JSON, the functions `firebase deploy` would create from a Python codebase: firebase-tools'
// own discovery (it runs the codebase's venv, serves firebase_functions' admin endpoint and reads
// the manifest), without deploying anything. Usage: node tests/discover_functions.cjs SOURCE_DIR PROJECT_ID
const path = require("path");
const [sourceDir, projectId] = process.argv.slice(2);
const tools = path.join(__dirname, "..", "node_modules", "firebase-tools", "lib");
const python = require(path.join(tools, "deploy", "functions", "runtimes", "python"));

(async () => {
  const delegate = new python.Delegate(projectId, path.resolve(sourceDir), "python311");
  const build = await delegate.discoverBuild({}, { GCLOUD_PROJECT: projectId });
  process.stdout.write(JSON.stringify(build, null, 1) + "\n");
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
