// The signed-in user's chats, newest first, as buttons that open them.
const $ = (id) => document.getElementById(id);

export function showChatList(snapshot, selected, open) {
  const items = snapshot.docs.map((doc) => {
    const chat = doc.data();
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.chat = doc.ref.path;
    button.setAttribute("aria-current", String(doc.ref.path === selected));
    const updated = chat.updatedAt?.toDate?.().toLocaleTimeString() ?? "";
    button.append(`${chat.status} · ${JSON.stringify(chat.data ?? {})}`);
    const when = document.createElement("small");
    when.textContent = `${doc.id.slice(0, 8)} · ${updated}`;
    button.append(when);
    button.addEventListener("click", () => open(doc.ref.path));
    const item = document.createElement("li");
    item.append(button);
    return item;
  });
  $("chat-list").replaceChildren(...items);
}
