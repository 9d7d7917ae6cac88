// The web chat: sign in, list your chats, start one, post messages, watch answers stream, stop one, close it.
import {
  createUserWithEmailAndPassword,
  onAuthStateChanged,
  signInAnonymously,
  signInWithEmailAndPassword,
  signOut,
} from "firebase/auth";
import {
  collection,
  disableNetwork,
  doc,
  enableNetwork,
  limit,
  onSnapshot,
  orderBy,
  query,
  where,
} from "firebase/firestore";
import { httpsCallable } from "firebase/functions";

import { showChatList } from "./chat-list.js";
import { ChatView } from "./chat-view.js";
import { auth, db, functions } from "./firebase.js";

const $ = (id) => document.getElementById(id);
const calculate = httpsCallable(functions, "calculate");
const postToCalculate = httpsCallable(functions, "postToCalculate");
const closeCalculate = httpsCallable(functions, "closeCalculate");
const stopCalculate = httpsCallable(functions, "stopCalculate");

const view = new ChatView();

/** A refused call's message as a person reads it (the SDK appends the HTTP status, e.g. " [429]"). */
const readable = (error) => error.message.replace(/ \[\d{3}\]$/, "");
const state = { user: null, chat: null, chatListeners: [], listListener: null, chatsSnapshot: null };

function stopChatListeners() {
  state.chatListeners.forEach((stop) => stop());
  state.chatListeners = [];
}

function refreshList() {
  if (state.chatsSnapshot) showChatList(state.chatsSnapshot, state.chat, openChat);
}

/** Listens to the chat document and its messages (the rules let only the owner read them). */
function openChat(path) {
  stopChatListeners();
  view.clear();
  state.chat = path;
  refreshList();
  if (!path) return;
  const failed = (error) => view.showError(`Cannot read the chat: ${error.message}`);
  const messages = query(
    collection(db, path, "messages"),
    where("userId", "==", state.user.uid),
    orderBy("createdAt"),
    orderBy("inBatchSortIndex"),
  );
  state.chatListeners = [
    onSnapshot(doc(db, path), (snapshot) => view.showChat(snapshot.data() ?? null), failed),
    onSnapshot(messages, (snapshot) => view.showMessages(snapshot), failed),
  ];
}

function listChats(user) {
  state.listListener?.();
  const chats = query(
    collection(db, "chats"),
    where("userId", "==", user.uid),
    orderBy("updatedAt", "desc"),
    limit(50),
  );
  state.listListener = onSnapshot(
    chats,
    (snapshot) => {
      state.chatsSnapshot = snapshot;
      refreshList();
    },
    (error) => view.showError(`Cannot list your chats: ${error.message}`),
  );
}

async function send(event) {
  event.preventDefault();
  const input = $("message-input");
  const message = input.value.trim();
  if (!message) return;
  const clientMessageId = crypto.randomUUID(); // the same id if this call is retried: stored once
  $("send").disabled = true;
  view.showError("");
  try {
    if (state.chat) {
      await postToCalculate({ chatDocument: state.chat, message, clientMessageId });
    } else {
      const { data } = await calculate({ message, clientMessageId });
      openChat(data.chatDocument);
    }
    input.value = "";
  } catch (error) {
    view.showError(readable(error)); // e.g. a limit reached: the message stays in the input
  } finally {
    $("send").disabled = false;
    input.focus();
  }
}

/** Calls ``callable`` on the open chat from ``button`` (disabled meanwhile; again usable if the call fails). */
async function onChat(button, callable) {
  if (!state.chat) return;
  $(button).disabled = true;
  try {
    await callable({ chatDocument: state.chat });
  } catch (error) {
    view.showError(readable(error));
    $(button).disabled = false;
  }
}

async function signInWithEmail(event) {
  event.preventDefault();
  const signUp = event.submitter?.value === "sign-up";
  const email = $("email").value;
  const password = $("password").value;
  try {
    await (signUp ? createUserWithEmailAndPassword : signInWithEmailAndPassword)(auth, email, password);
    $("sign-in-error").hidden = true;
  } catch (error) {
    $("sign-in-error").textContent = SIGN_IN_ERRORS[error.code] ?? error.message;
    $("sign-in-error").hidden = false;
  }
}

const SIGN_IN_ERRORS = {
  "auth/invalid-credential": "Wrong email or password.",
  "auth/email-already-in-use": "This email already has an account: sign in.",
  "auth/weak-password": "The password needs at least 6 characters.",
};

onAuthStateChanged(auth, (user) => {
  state.user = user;
  $("sign-in").hidden = Boolean(user);
  $("workspace").hidden = !user;
  $("sign-out").hidden = !user;
  $("account").textContent = user ? `Signed in as ${user.email ?? "a guest"} (${user.uid.slice(0, 8)})` : "";
  state.listListener?.();
  state.listListener = null;
  state.chatsSnapshot = null;
  openChat(null);
  if (user) {
    listChats(user);
    $("message-input").focus();
  }
});

// Firestore reconnects by itself; going offline and back also restarts its streams at once.
window.addEventListener("offline", () => {
  $("connection").hidden = false;
  disableNetwork(db);
});
window.addEventListener("online", () => {
  $("connection").hidden = true;
  enableNetwork(db);
});

$("composer").addEventListener("submit", send);
$("close-chat").addEventListener("click", () => onChat("close-chat", closeCalculate));
// Stop: the text so far stays, marked stopped; the chat waits for the user again.
$("stop").addEventListener("click", () => onChat("stop", stopCalculate));
$("new-chat").addEventListener("click", () => {
  openChat(null);
  $("message-input").focus();
});
$("sign-in-anonymous").addEventListener("click", () =>
  signInAnonymously(auth).catch((error) => view.showError(error.message)),
);
$("email-form").addEventListener("submit", signInWithEmail);
$("sign-out").addEventListener("click", () => signOut(auth));
