// SPDX-License-Identifier: Apache-2.0
// Chat client for index.html: subscribes to the /chat broadcaster with
// atmosphere.js 4.0.1 on the transport chosen in the select or `?transport=`,
// lists received messages and sends the input line with push().
//
// State for scripted checks lives on window: `received` (message strings in
// arrival order), `chatState` (connecting, open, reconnecting, closed or
// error), `chatTransport` (the transport in use) and `chatSend(text)`.
(function () {
  'use strict';

  var TRANSPORTS = ['websocket', 'long-polling', 'streaming', 'sse', 'jsonp'];
  var CHAT_PATH = '/chat';

  var select = document.getElementById('transport');
  var stateLabel = document.getElementById('state');
  var uuidLabel = document.getElementById('uuid');
  var list = document.getElementById('messages');
  var form = document.getElementById('send');
  var input = document.getElementById('text');
  var sendButton = document.getElementById('send-button');

  var subscription = null;

  window.received = [];
  window.chatState = 'connecting';
  window.chatTransport = null;

  function setState(state) {
    window.chatState = state;
    stateLabel.textContent = state;
    stateLabel.setAttribute('data-state', state);
    sendButton.disabled = state !== 'open';
  }

  // Appends one line; textContent keeps markup in messages from running.
  function showMessage(text) {
    var item = document.createElement('li');
    var stamp = document.createElement('time');
    stamp.textContent = new Date().toLocaleTimeString();
    item.appendChild(stamp);
    item.appendChild(document.createTextNode(text));
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function transportFromQuery() {
    var requested = new URLSearchParams(window.location.search).get('transport');
    return TRANSPORTS.indexOf(requested) >= 0 ? requested : 'websocket';
  }

  function connect(transport) {
    if (subscription !== null) {
      subscription.close();
      subscription = null;
    }
    window.chatTransport = transport;
    uuidLabel.textContent = '';
    setState('connecting');
    subscription = atmosphere.subscribe({
      url: new URL(CHAT_PATH, window.location.href).href,
      transport: transport,
      // The same transport as fallback, so the page never silently switches.
      fallbackTransport: transport,
      trackMessageLength: true,
      enableProtocol: true,
      contentType: 'text/plain',
      reconnectInterval: 1000,
      logLevel: 'warn',
      onOpen: function (response) {
        window.chatTransport = response.transport;
        uuidLabel.textContent = 'uuid ' + subscription.getUUID();
        setState('open');
      },
      onReopen: function () {
        setState('open');
      },
      onReconnect: function () {
        setState('reconnecting');
      },
      onMessage: function (response) {
        var text = response.responseBody;
        if (response.status !== 200 || text === '') return;
        window.received.push(text);
        showMessage(text);
      },
      onClose: function () {
        setState('closed');
      },
      onError: function () {
        setState('error');
      },
      onTransportFailure: function () {
        setState('error');
      },
    });
  }

  // Sends one message over the open subscription. Returns false when no
  // subscription is open; atmosphere.js rejects a push before onOpen.
  window.chatSend = function (text) {
    if (subscription === null || window.chatState !== 'open') return false;
    subscription.push(text);
    return true;
  };

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (input.value !== '' && window.chatSend(input.value)) input.value = '';
  });

  select.addEventListener('change', function () {
    var url = new URL(window.location.href);
    url.searchParams.set('transport', select.value);
    window.history.replaceState(null, '', url.href);
    connect(select.value);
  });

  select.value = transportFromQuery();
  connect(select.value);
})();
