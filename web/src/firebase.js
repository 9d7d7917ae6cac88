// The Firebase app of the web chat, on the local emulators. CONFIG is written by web/build.mjs from
// firebase.json and .firebaserc (project id, emulator hosts and ports, the functions' region).
import { initializeApp } from "firebase/app";
import { initializeAppCheck, ReCaptchaEnterpriseProvider } from "firebase/app-check";
import { connectAuthEmulator, getAuth } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore } from "firebase/firestore";
import { connectFunctionsEmulator, getFunctions } from "firebase/functions";

/* global CONFIG */
export const config = CONFIG;

const app = initializeApp({
  apiKey: "demo-api-key",
  projectId: config.projectId,
  authDomain: `${config.projectId}.firebaseapp.com`,
});

// App Check, when a reCAPTCHA Enterprise site key is configured (never on the emulators, which cannot
// verify its tokens): the SDK then attaches an App Check token to every callable call and Firestore
// request. Callables with replay protection need limited-use tokens: pass
// { limitedUseAppCheckTokens: true } to httpsCallable for them.
export const appCheck = config.appCheckSiteKey
  ? initializeAppCheck(app, {
      provider: new ReCaptchaEnterpriseProvider(config.appCheckSiteKey),
      isTokenAutoRefreshEnabled: true,
    })
  : null;

export const auth = getAuth(app);
export const db = getFirestore(app);
export const functions = getFunctions(app, config.region);

connectAuthEmulator(auth, `http://${config.auth.host}:${config.auth.port}`, { disableWarnings: true });
connectFirestoreEmulator(db, config.firestore.host, config.firestore.port);
connectFunctionsEmulator(functions, config.functions.host, config.functions.port);
