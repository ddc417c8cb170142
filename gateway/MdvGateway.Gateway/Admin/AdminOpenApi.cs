namespace MdvGateway.Gateway.Admin;

/// <summary>
/// The OpenAPI 3.0 description of the admin API, served without authentication at <c>/admin/openapi.json</c>.
/// Written by hand next to the handlers it describes: the handlers read raw requests (to refuse unknown fields and
/// oversized bodies themselves), which a generator could not see through. <c>AdminOpenApiTests</c> checks that
/// every mapped path is described.
/// </summary>
internal static class AdminOpenApi
{
    public const string Path = "/admin/openapi.json";

    public const string Document = """
    {
      "openapi": "3.0.3",
      "info": {
        "title": "MdvGateway admin API",
        "version": "1.0",
        "description": "Ban list and configuration of the MdvGateway API gateway, on the admin listener only (Admin:Urls). Authenticate with 'Authorization: ApiKey <key>' or 'X-Api-Key: <key>'. Errors are application/problem+json. A CIDR's slash in a path is written %2F (203.0.113.0%2F24). Failed authentications are limited per client address (Admin:AuthFailureLimit per Admin:AuthFailureWindow, then 429 with Retry-After)."
      },
      "servers": [ { "url": "/" } ],
      "tags": [ { "name": "bans" }, { "name": "configuration" } ],
      "paths": {
        "/admin/bans": {
          "get": {
            "tags": [ "bans" ],
            "operationId": "listBans",
            "summary": "Active bans, filtered, ordered by createdAt then target, paged",
            "x-required-role": "bans:read",
            "security": [ { "apiKeyHeader": [] }, { "apiKeyAuthorization": [] } ],
            "parameters": [
              { "name": "ip", "in": "query", "schema": { "type": "string" }, "description": "Exact target: an address (an IPv6 address means its client prefix) or a CIDR range." },
              { "name": "contains", "in": "query", "schema": { "type": "string" }, "description": "An address: the bans covering it. A CIDR range: the bans inside it." },
              { "name": "origin", "in": "query", "schema": { "type": "string", "enum": [ "auto", "manual", "imported" ] } },
              { "name": "since", "in": "query", "schema": { "type": "string", "format": "date-time" }, "description": "createdAt >= since (ISO 8601; no offset means UTC)." },
              { "name": "until", "in": "query", "schema": { "type": "string", "format": "date-time" }, "description": "createdAt < until (ISO 8601)." },
              { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 10000, "default": 100 } },
              { "name": "offset", "in": "query", "schema": { "type": "integer", "minimum": 0, "default": 0 } },
              { "name": "format", "in": "query", "schema": { "type": "string", "enum": [ "json", "csv" ], "default": "json" } }
            ],
            "responses": {
              "200": {
                "description": "The page of bans. CSV: a header row, RFC 4180 quoting, cells starting with = + - @ prefixed with a single quote; the total is in X-Total-Count.",
                "headers": { "X-Total-Count": { "description": "Matching bans in all (CSV only).", "schema": { "type": "integer" } } },
                "content": {
                  "application/json": { "schema": { "$ref": "#/components/schemas/BanList" } },
                  "text/csv": { "schema": { "type": "string" } }
                }
              },
              "400": { "$ref": "#/components/responses/BadRequest" },
              "401": { "$ref": "#/components/responses/Unauthorized" },
              "403": { "$ref": "#/components/responses/Forbidden" },
              "429": { "$ref": "#/components/responses/TooManyFailures" },
              "503": { "$ref": "#/components/responses/StoreUnavailable" }
            }
          },
          "post": {
            "tags": [ "bans" ],
            "operationId": "createBan",
            "summary": "Ban an address or CIDR range by hand (replaces any ban on the same target)",
            "x-required-role": "bans:write",
            "security": [ { "apiKeyHeader": [] }, { "apiKeyAuthorization": [] } ],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CreateBan" } } } },
            "responses": {
              "201": {
                "description": "The ban, enforced on this node at once and on every node within a second.",
                "headers": { "Location": { "schema": { "type": "string" } } },
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Ban" } } }
              },
              "400": { "$ref": "#/components/responses/BadRequest" },
              "401": { "$ref": "#/components/responses/Unauthorized" },
              "403": { "$ref": "#/components/responses/Forbidden" },
              "409": { "$ref": "#/components/responses/Allowlisted" },
              "429": { "$ref": "#/components/responses/TooManyFailures" },
              "503": { "$ref": "#/components/responses/StoreUnavailable" }
            }
          }
        },
        "/admin/bans/{target}": {
          "parameters": [
            { "name": "target", "in": "path", "required": true, "schema": { "type": "string" }, "description": "Address or CIDR range, slash written %2F." }
          ],
          "get": {
            "tags": [ "bans" ],
            "operationId": "getBan",
            "summary": "One active ban",
            "x-required-role": "bans:read",
            "security": [ { "apiKeyHeader": [] }, { "apiKeyAuthorization": [] } ],
            "responses": {
              "200": { "description": "The ban.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Ban" } } } },
              "400": { "$ref": "#/components/responses/BadRequest" },
              "401": { "$ref": "#/components/responses/Unauthorized" },
              "403": { "$ref": "#/components/responses/Forbidden" },
              "404": { "$ref": "#/components/responses/NotFound" },
              "429": { "$ref": "#/components/responses/TooManyFailures" },
              "503": { "$ref": "#/components/responses/StoreUnavailable" }
            }
          },
          "patch": {
            "tags": [ "bans" ],
            "operationId": "changeBan",
            "summary": "Extend or shorten a ban",
            "x-required-role": "bans:write",
            "security": [ { "apiKeyHeader": [] }, { "apiKeyAuthorization": [] } ],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ChangeBan" } } } },
            "responses": {
              "200": { "description": "The changed ban.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Ban" } } } },
              "400": { "$ref": "#/components/responses/BadRequest" },
              "401": { "$ref": "#/components/responses/Unauthorized" },
              "403": { "$ref": "#/components/responses/Forbidden" },
              "404": { "$ref": "#/components/responses/NotFound" },
              "429": { "$ref": "#/components/responses/TooManyFailures" },
              "503": { "$ref": "#/components/responses/StoreUnavailable" }
            }
          },
          "delete": {
            "tags": [ "bans" ],
            "operationId": "liftBan",
            "summary": "Lift a ban and clear the client's strikes; the offense level stays unless resetLevel=true",
            "x-required-role": "bans:write",
            "security": [ { "apiKeyHeader": [] }, { "apiKeyAuthorization": [] } ],
            "parameters": [
              { "name": "resetLevel", "in": "query", "schema": { "type": "boolean", "default": false } }
            ],
            "responses": {
              "204": { "description": "Lifted on this node at once and on every node within a second." },
              "400": { "$ref": "#/components/responses/BadRequest" },
              "401": { "$ref": "#/components/responses/Unauthorized" },
              "403": { "$ref": "#/components/responses/Forbidden" },
              "404": { "$ref": "#/components/responses/NotFound" },
              "429": { "$ref": "#/components/responses/TooManyFailures" },
              "503": { "$ref": "#/components/responses/StoreUnavailable" }
            }
          }
        },
        "/admin/bans/import": {
          "post": {
            "tags": [ "bans" ],
            "operationId": "importBans",
            "summary": "Bulk import a blocklist; each line is validated on its own",
            "description": "A JSON array of {target, duration, reason} or CSV with the header target,duration,reason (reason optional; an empty duration is permanent). At most 100000 lines and 5 MiB. Bans are written with origin 'imported'; an existing longer ban is kept (counted as unchanged).",
            "x-required-role": "bans:write",
            "security": [ { "apiKeyHeader": [] }, { "apiKeyAuthorization": [] } ],
            "parameters": [
              { "name": "overrideAllowlist", "in": "query", "schema": { "type": "boolean", "default": false }, "description": "Ban lines that overlap IpBans:Allowlist instead of rejecting them." }
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": { "schema": { "type": "array", "maxItems": 100000, "items": { "$ref": "#/components/schemas/ImportLine" } } },
                "text/csv": { "schema": { "type": "string" } }
              }
            },
            "responses": {
              "200": { "description": "What was accepted and what was rejected, line by line.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ImportReport" } } } },
              "400": { "$ref": "#/components/responses/BadRequest" },
              "401": { "$ref": "#/components/responses/Unauthorized" },
              "403": { "$ref": "#/components/responses/Forbidden" },
              "429": { "$ref": "#/components/responses/TooManyFailures" },
              "503": { "$ref": "#/components/responses/StoreUnavailable" }
            }
          }
        },
        "/admin/offenders": {
          "get": {
            "tags": [ "bans" ],
            "operationId": "listOffenders",
            "summary": "Clients with strikes in their window or an offense level, most recently active first",
            "x-required-role": "bans:read",
            "security": [ { "apiKeyHeader": [] }, { "apiKeyAuthorization": [] } ],
            "parameters": [
              { "name": "top", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 50 } }
            ],
            "responses": {
              "200": { "description": "The offenders.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/OffenderList" } } } },
              "400": { "$ref": "#/components/responses/BadRequest" },
              "401": { "$ref": "#/components/responses/Unauthorized" },
              "403": { "$ref": "#/components/responses/Forbidden" },
              "429": { "$ref": "#/components/responses/TooManyFailures" },
              "503": { "$ref": "#/components/responses/StoreUnavailable" }
            }
          }
        },
        "/admin/policies": {
          "get": {
            "tags": [ "configuration" ],
            "operationId": "listPolicies",
            "summary": "The rate-limit policies in force (after any reload)",
            "x-required-role": "config:read",
            "security": [ { "apiKeyHeader": [] }, { "apiKeyAuthorization": [] } ],
            "responses": {
              "200": { "description": "The policies.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PolicyList" } } } },
              "400": { "$ref": "#/components/responses/BadRequest" },
              "401": { "$ref": "#/components/responses/Unauthorized" },
              "403": { "$ref": "#/components/responses/Forbidden" },
              "429": { "$ref": "#/components/responses/TooManyFailures" }
            }
          }
        },
        "/admin/openapi.json": {
          "get": {
            "tags": [ "configuration" ],
            "operationId": "getOpenApi",
            "summary": "This document (no authentication)",
            "security": [],
            "responses": { "200": { "description": "OpenAPI 3.0 document.", "content": { "application/json": { "schema": { "type": "object" } } } } }
          }
        }
      },
      "components": {
        "securitySchemes": {
          "apiKeyHeader": { "type": "apiKey", "in": "header", "name": "X-Api-Key" },
          "apiKeyAuthorization": { "type": "apiKey", "in": "header", "name": "Authorization", "description": "The value 'ApiKey <key>'." }
        },
        "responses": {
          "BadRequest": { "description": "Invalid input: parameters, target, duration, dates, JSON, unknown fields; a body over 64 KiB (5 MiB for imports; problem type ...:admin:too-large) or not application/json (text/csv for imports) in UTF-8 (...:admin:unsupported-media-type).", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
          "Unauthorized": { "description": "No key, or a key that matches no configured key.", "headers": { "WWW-Authenticate": { "schema": { "type": "string" } } }, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
          "Forbidden": { "description": "The key does not have the role this endpoint requires.", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
          "NotFound": { "description": "No active ban on this target.", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
          "Allowlisted": { "description": "The target overlaps IpBans:Allowlist; send overrideAllowlist true to ban it anyway.", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
          "TooManyFailures": { "description": "Too many failed authentications from this address; see Retry-After.", "headers": { "Retry-After": { "schema": { "type": "integer" } } }, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
          "StoreUnavailable": { "description": "Redis cannot be reached; retry shortly.", "headers": { "Retry-After": { "schema": { "type": "integer" } } }, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } }
        },
        "schemas": {
          "Ban": {
            "type": "object",
            "required": [ "target", "origin", "level", "createdAt", "createdBy" ],
            "properties": {
              "target": { "type": "string", "description": "Address or CIDR range (IPv6 clients as their prefix)." },
              "origin": { "type": "string", "enum": [ "auto", "manual", "imported" ] },
              "reason": { "type": "string", "nullable": true },
              "level": { "type": "integer", "description": "Offense level of an automatic ban; 0 for manual and imported bans." },
              "createdAt": { "type": "string", "format": "date-time" },
              "expiresAt": { "type": "string", "format": "date-time", "nullable": true, "description": "null: permanent." },
              "createdBy": { "type": "string", "description": "The gateway node (automatic) or the admin key's name." },
              "policy": { "type": "string", "nullable": true },
              "strikes": { "type": "integer", "nullable": true }
            }
          },
          "BanList": {
            "type": "object",
            "required": [ "total", "offset", "limit", "items" ],
            "properties": {
              "total": { "type": "integer" },
              "offset": { "type": "integer" },
              "limit": { "type": "integer" },
              "items": { "type": "array", "items": { "$ref": "#/components/schemas/Ban" } }
            }
          },
          "CreateBan": {
            "type": "object",
            "additionalProperties": false,
            "required": [ "target", "duration" ],
            "properties": {
              "target": { "type": "string", "example": "203.0.113.0/24" },
              "duration": { "type": "string", "nullable": true, "example": "01:00:00", "description": "hh:mm:ss or d.hh:mm:ss, positive, at most 3650 days; null: permanent." },
              "reason": { "type": "string", "nullable": true, "maxLength": 1000 },
              "overrideAllowlist": { "type": "boolean", "default": false }
            }
          },
          "ChangeBan": {
            "type": "object",
            "additionalProperties": false,
            "description": "Exactly one of the two; null for either makes the ban permanent.",
            "properties": {
              "expiresAt": { "type": "string", "format": "date-time", "nullable": true },
              "duration": { "type": "string", "nullable": true, "description": "From now: hh:mm:ss or d.hh:mm:ss." }
            }
          },
          "ImportLine": {
            "type": "object",
            "additionalProperties": false,
            "required": [ "target", "duration" ],
            "properties": {
              "target": { "type": "string" },
              "duration": { "type": "string", "nullable": true },
              "reason": { "type": "string", "nullable": true, "maxLength": 1000 }
            }
          },
          "ImportReport": {
            "type": "object",
            "required": [ "accepted", "unchanged", "rejected" ],
            "properties": {
              "accepted": { "type": "integer", "description": "Valid lines; each target is banned at least as long as asked." },
              "unchanged": { "type": "integer", "description": "Accepted lines whose target already had a longer ban, which was kept." },
              "rejected": {
                "type": "array",
                "items": {
                  "type": "object",
                  "required": [ "line", "error" ],
                  "properties": {
                    "line": { "type": "integer", "description": "CSV: line number (header = 1). JSON: 1-based array position." },
                    "target": { "type": "string", "nullable": true },
                    "error": { "type": "string" }
                  }
                }
              }
            }
          },
          "OffenderList": {
            "type": "object",
            "required": [ "items" ],
            "properties": {
              "items": {
                "type": "array",
                "items": {
                  "type": "object",
                  "properties": {
                    "client": { "type": "string" },
                    "strikes": { "type": "integer" },
                    "level": { "type": "integer" },
                    "lastStrikeAt": { "type": "string", "format": "date-time" }
                  }
                }
              }
            }
          },
          "PolicyList": {
            "type": "object",
            "properties": {
              "defaultPolicy": { "type": "string", "nullable": true },
              "whenStoreUnavailable": { "type": "string", "enum": [ "FallbackToLocal", "Allow", "Reject" ] },
              "policies": {
                "type": "array",
                "items": {
                  "type": "object",
                  "properties": {
                    "name": { "type": "string" },
                    "mode": { "type": "string", "enum": [ "Enforce", "Shadow" ] },
                    "partitionBy": { "type": "string" },
                    "limits": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "name": { "type": "string" },
                          "permitLimit": { "type": "integer" },
                          "windowSeconds": { "type": "integer" }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "Problem": {
            "type": "object",
            "properties": {
              "type": { "type": "string" },
              "title": { "type": "string" },
              "status": { "type": "integer" },
              "detail": { "type": "string" },
              "traceId": { "type": "string" }
            }
          }
        }
      }
    }
    """;

    public static Task WriteAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(Document, context.RequestAborted);
    }
}
