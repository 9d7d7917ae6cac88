// Builds the web chat into web/public/app.js (esbuild bundle of web/src with the firebase SDK), with
// the emulators' addresses and the project id from firebase.json and .firebaserc. Run by emulator/install.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const web = dirname(fileURLToPath(import.meta.url));
const root = join(web, "..");
const emulators = JSON.parse(readFileSync(join(root, "firebase.json"), "utf8")).emulators;
const project = JSON.parse(readFileSync(join(root, ".firebaserc"), "utf8")).projects.default;
const address = (name, port) => ({ host: emulators[name]?.host ?? "127.0.0.1", port: emulators[name]?.port ?? port });
const config = {
  projectId: project,
  region: "us-central1",
  auth: address("auth", 9099),
  firestore: address("firestore", 8080),
  functions: address("functions", 5001),
  // App Check's reCAPTCHA Enterprise site key: empty on the emulators (App Check off); set
  // APP_CHECK_SITE_KEY when building for a deployed project whose functions enforce App Check.
  appCheckSiteKey: process.env.APP_CHECK_SITE_KEY ?? "",
};

await build({
  entryPoints: [join(web, "src", "app.js")],
  outfile: join(web, "public", "app.js"),
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  legalComments: "linked",
  define: { CONFIG: JSON.stringify(config) },
  logLevel: "warning",
});
console.error(`web/build.mjs: built web/public/app.js for ${project}`);
