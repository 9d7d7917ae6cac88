// Renders one chat: its status, data, assistant, error and messages (streamed text grows in place).
const $ = (id) => document.getElementById(id);

export class ChatView {
  constructor() {
    this.items = new Map(); // message id -> <li>
    this.list = $("messages");
  }

  clear() {
    this.items.clear();
    this.list.replaceChildren();
    this.showChat(null);
  }

  /** The chat document (null: no chat yet). */
  showChat(chat) {
    $("status").textContent = chat ? chat.status : "new";
    $("data").textContent = JSON.stringify(chat ? chat.data ?? {} : {});
    $("assistant").textContent = chat?.config?.assistantId ?? "calculator";
    $("close-chat").disabled = !chat || chat.status === "complete";
    $("stop").disabled = chat?.status !== "processing" || Boolean(chat?.stopRequested);
    this.showError(chat?.status === "failed" ? chat.error?.message ?? "The chat failed." : "");
  }

  showError(message) {
    $("error").textContent = message;
    $("error").hidden = !message;
  }

  /** Applies a messages query snapshot: adds, updates (streamed text) and removes items in order. */
  showMessages(snapshot) {
    for (const change of snapshot.docChanges()) {
      if (change.type === "removed") {
        this.items.get(change.doc.id)?.remove();
        this.items.delete(change.doc.id);
      }
    }
    snapshot.docs.forEach((doc, index) => {
      const item = this.items.get(doc.id) ?? this.#create(doc.id);
      this.#fill(item, doc.data());
      if (this.list.children[index] !== item) this.list.insertBefore(item, this.list.children[index] ?? null);
    });
    this.list.lastElementChild?.scrollIntoView({ block: "end" });
  }

  #create(id) {
    const item = document.createElement("li");
    item.dataset.testid = "message";
    item.dataset.id = id;
    const who = document.createElement("span");
    who.className = "who";
    const text = document.createElement("span");
    text.className = "text";
    item.append(who, text);
    this.items.set(id, item);
    return item;
  }

  #fill(item, message) {
    item.dataset.author = message.author === "user" ? "user" : "ai";
    item.dataset.streaming = message.streaming ? "true" : "false";
    item.dataset.stopped = message.stopped ? "true" : "false";
    item.querySelector(".who").textContent = message.meta?.name ?? (message.author === "user" ? "You" : "Assistant");
    const text = item.querySelector(".text");
    if (text.textContent !== message.text) text.textContent = message.text;
  }
}
