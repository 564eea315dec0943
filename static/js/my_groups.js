/* "My groups": unread counts that go up live as messages arrive in any group. */
"use strict";

(function () {
  const { CencommSocket } = window.Cencomm;
  const me = document.body.dataset.user;
  const socket = new CencommSocket({
    onEvent(group, event) {
      if (!["message.created", "seizure.reported"].includes(event.event) || event.data.author === me) return;
      const badge = document.querySelector(`[data-unread-for="${CSS.escape(group)}"]`);
      if (!badge) return;
      badge.textContent = String(Number(badge.textContent || 0) + 1);
      badge.hidden = false;
    },
    onState(state) {
      const connection = document.getElementById("connection");
      if (connection) connection.dataset.state = state;
    },
  });
  socket.connect();
})();
