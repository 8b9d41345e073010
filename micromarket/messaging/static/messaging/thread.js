// Conversations: the htmx poll for new messages rests while the tab is hidden (it asks again
// as soon as the tab is visible), and a message that arrived twice (the poll and the send
// answer crossing) is shown once. Loaded by messaging/includes/chat.html; no inline script.
(() => {
  if (window.micromarketChat) return;
  window.micromarketChat = true;

  document.addEventListener("htmx:beforeRequest", (event) => {
    if (document.hidden && event.detail.elt && event.detail.elt.id === "chat-poll") {
      event.preventDefault();
    }
  });

  const dedupe = () => {
    const list = document.getElementById("message-list");
    if (!list) return;
    const seen = new Set();
    for (const item of list.querySelectorAll(":scope > li[id]")) {
      if (seen.has(item.id)) item.remove();
      else seen.add(item.id);
    }
  };
  document.addEventListener("htmx:oobAfterSwap", dedupe);
  document.addEventListener("htmx:afterSettle", dedupe);
})();
