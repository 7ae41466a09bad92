/// The OpenAPI 3.1 description of `rnn serve`, written by hand and served at `/openapi.yaml`.
/// `OpenAPISpecTests` keeps it true: every route is described, every described operation
/// answers its example with a status the description lists. Keep the layout the tests read:
/// paths at two spaces, methods at four, response codes quoted at eight, one-line JSON examples.
enum OpenAPISpec {
    static let yaml = #"""
openapi: 3.1.0
info:
  title: rnn serve
  version: 0.1.0
  description: |
    Trained swift-rnn models over HTTP: text classification, generation (optionally streamed
    as server-sent events), tagging and translation. Every error is a JSON body
    {"error": {"status": ..., "message": ...}}. Requests name a model by "model"; when left out,
    the only loaded model of the endpoint's task is used.
servers:
  - url: http://127.0.0.1:8080
paths:
  /:
    get:
      summary: The web page (HTML) to try the loaded models.
      operationId: page
      responses:
        "200":
          description: HTML page.
          content:
            text/html:
              schema:
                type: string
  /healthz:
    get:
      summary: Liveness.
      operationId: health
      responses:
        "200":
          description: The server is up.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Health"
  /openapi.yaml:
    get:
      summary: This document.
      operationId: openapi
      responses:
        "200":
          description: OpenAPI 3.1 YAML.
          content:
            application/yaml:
              schema:
                type: string
  /v1/models:
    get:
      summary: The loaded models, with their configuration, parameter count and training metrics.
      operationId: models
      responses:
        "200":
          description: One card per loaded model.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Models"
  /v1/classify:
    post:
      summary: Label and probabilities for each text. Concurrent requests share forward passes.
      operationId: classify
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/ClassifyRequest"
            example: {"texts": ["A wonderful film, beautifully acted."]}
      responses:
        "200":
          description: One result per text, in order.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/ClassifyResponse"
        "400":
          $ref: "#/components/responses/BadRequest"
        "404":
          $ref: "#/components/responses/NotFound"
        "413":
          $ref: "#/components/responses/TooLarge"
        "429":
          $ref: "#/components/responses/Busy"
        "503":
          $ref: "#/components/responses/ShuttingDown"
        "504":
          $ref: "#/components/responses/Timeout"
  /v1/generate:
    post:
      summary: Continue a prompt with a language model; with "stream" true, tokens as server-sent events.
      description: |
        Streamed (text/event-stream): one "token" event per generated token, data
        {"token", "text", "id"} ("text" is what the token adds to the decoded text), then one
        "done" event whose data is the GenerateResponse, or an "error" event with an Error body.
      operationId: generate
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/GenerateRequest"
            example: {"prompt": "what do you call", "max_tokens": 20, "temperature": 0.8, "top_k": 40, "seed": 7}
      responses:
        "200":
          description: The continuation and why it stopped (JSON), or a stream of events.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/GenerateResponse"
            text/event-stream:
              schema:
                type: string
        "400":
          $ref: "#/components/responses/BadRequest"
        "404":
          $ref: "#/components/responses/NotFound"
        "413":
          $ref: "#/components/responses/TooLarge"
        "429":
          $ref: "#/components/responses/Busy"
        "503":
          $ref: "#/components/responses/ShuttingDown"
  /v1/tag:
    post:
      summary: A tag for every word of each sentence (words separated by whitespace).
      operationId: tag
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/TagRequest"
            example: {"sentences": ["The cat sat on the mat ."]}
      responses:
        "200":
          description: Words and tags of each sentence, in order.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/TagResponse"
        "400":
          $ref: "#/components/responses/BadRequest"
        "404":
          $ref: "#/components/responses/NotFound"
        "413":
          $ref: "#/components/responses/TooLarge"
        "429":
          $ref: "#/components/responses/Busy"
        "503":
          $ref: "#/components/responses/ShuttingDown"
        "504":
          $ref: "#/components/responses/Timeout"
  /v1/translate:
    post:
      summary: Translate each text with a translation model (task "translate").
      description: |
        Answers 404 {"error": {"status": 404, "message": "no translation model loaded"}} while
        no translation model is loaded.
      operationId: translate
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/TranslateRequest"
            example: {"texts": ["Ein Hund rennt über die Wiese."]}
      responses:
        "200":
          description: One translation per text, in order.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/TranslateResponse"
        "400":
          $ref: "#/components/responses/BadRequest"
        "404":
          $ref: "#/components/responses/NotFound"
        "413":
          $ref: "#/components/responses/TooLarge"
        "429":
          $ref: "#/components/responses/Busy"
        "503":
          $ref: "#/components/responses/ShuttingDown"
        "504":
          $ref: "#/components/responses/Timeout"
components:
  responses:
    BadRequest:
      description: Malformed JSON, a wrong type, an empty or too long text, an invalid option.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
    NotFound:
      description: No such model, or no model of this task loaded.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
    TooLarge:
      description: The request body is larger than the server accepts.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
    Busy:
      description: Too many requests are waiting; retry shortly.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
    ShuttingDown:
      description: The server is shutting down.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
    Timeout:
      description: The request waited longer than the server's time limit.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
  schemas:
    Error:
      type: object
      required: [error]
      properties:
        error:
          type: object
          required: [status, message]
          properties:
            status:
              type: integer
            message:
              type: string
    Health:
      type: object
      required: [status, models]
      properties:
        status:
          type: string
        models:
          type: integer
    Models:
      type: object
      required: [models]
      properties:
        models:
          type: array
          items:
            $ref: "#/components/schemas/ModelCard"
    ModelCard:
      type: object
      required: [name, task, path, parameters, config, training, metrics]
      properties:
        name:
          type: string
        task:
          type: string
          description: classify, lm, tag or translate.
        path:
          type: string
        parameters:
          type: integer
        config:
          description: The "model" section of the model's config.json.
        training:
          type: object
          additionalProperties:
            type: string
        metrics:
          type: object
          additionalProperties:
            type: number
        labels:
          type: array
          items:
            type: string
    Texts:
      type: array
      minItems: 1
      maxItems: 64
      items:
        type: string
        minLength: 1
        maxLength: 20000
    ClassifyRequest:
      type: object
      required: [texts]
      properties:
        model:
          type: string
        texts:
          $ref: "#/components/schemas/Texts"
    ClassifyResponse:
      type: object
      required: [model, results]
      properties:
        model:
          type: string
        results:
          type: array
          items:
            type: object
            required: [label, probability, probabilities]
            properties:
              label:
                type: string
              probability:
                type: number
              probabilities:
                type: object
                additionalProperties:
                  type: number
    GenerateRequest:
      type: object
      required: [prompt]
      properties:
        model:
          type: string
        prompt:
          type: string
          maxLength: 20000
        max_tokens:
          type: integer
          minimum: 1
          maximum: 512
          default: 40
        temperature:
          type: number
          exclusiveMinimum: 0
          maximum: 100
          default: 1
        top_k:
          type: integer
          minimum: 1
        top_p:
          type: number
          exclusiveMinimum: 0
          maximum: 1
        seed:
          type: integer
          minimum: 0
          maximum: 9007199254740991
          default: 1
        condition:
          type: string
          description: The label to write for, with a conditioned model.
        stream:
          type: boolean
          default: false
    GenerateResponse:
      type: object
      required: [model, prompt, text, tokens, stopped, log_probability]
      properties:
        model:
          type: string
        prompt:
          type: string
        text:
          type: string
          description: The continuation, decoded.
        tokens:
          type: array
          items:
            type: string
        stopped:
          type: string
          enum: [end_token, max_tokens, timeout, cancelled]
        log_probability:
          type: number
    TagRequest:
      type: object
      required: [sentences]
      properties:
        model:
          type: string
        sentences:
          $ref: "#/components/schemas/Texts"
    TagResponse:
      type: object
      required: [model, results]
      properties:
        model:
          type: string
        results:
          type: array
          items:
            type: object
            required: [words, tags]
            properties:
              words:
                type: array
                items:
                  type: string
              tags:
                type: array
                items:
                  type: string
    TranslateRequest:
      type: object
      required: [texts]
      properties:
        model:
          type: string
        texts:
          $ref: "#/components/schemas/Texts"
    TranslateResponse:
      type: object
      required: [model, results]
      properties:
        model:
          type: string
        results:
          type: array
          items:
            type: object
            required: [translation]
            properties:
              translation:
                type: string
"""#
}
