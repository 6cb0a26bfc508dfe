// The API's documentation page (/api/v1/docs): Swagger UI from /static/vendor/ (npm's swagger-ui-dist,
// copied by `make setup`), reading the platform's own OpenAPI description. A file of its own, not an inline
// script, so the page keeps the platform's content security policy; nothing is fetched from the internet.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = window.SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
});
