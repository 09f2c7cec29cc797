// An uncaught error: node prints the source line and a caret first.
function handler(req) {
  return req.body.user.name;
}
console.log('listening');
handler({ body: {} });
