// Swagger UI on the API's own OpenAPI document; the assets come from this server.
"use strict";
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
