/* The article editor: EasyMDE (npm "easymde", served from our own static files) on the form's Markdown textarea.
 * Without this script, or if EasyMDE fails to load, the textarea is the editor: the body is Markdown either way.
 *
 *   <textarea data-editor
 *             data-preview-url="/knowledge/preview/"        the server renders the preview (markdown-it + nh3)
 *             data-upload-url="/knowledge/articles/X/images/"  pasted or dropped images go there (edit form only)
 *             data-texts='{"bold": "...", ...}'>             labels in the reader's language
 *
 * No inline script or style (the Content-Security-Policy forbids them); no font or dictionary from a CDN.
 */
(function () {
  "use strict";

  var IMAGE_TYPES = "image/png, image/jpeg, image/gif, image/webp";

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try {
      return JSON.parse(headers)["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
    });
  }

  function markdownLabel(name) {
    // The file's name without its extension, as the image's alt text; brackets would end the Markdown label.
    return (name || "image").replace(/\.[^.]*$/, "").replace(/[\[\]\\\n\r]/g, " ").slice(0, 80);
  }

  function start(textarea) {
    if (typeof window.EasyMDE !== "function" || textarea.dataset.editorStarted) {
      return;
    }
    textarea.dataset.editorStarted = "1";
    var texts = {};
    try {
      texts = JSON.parse(textarea.dataset.texts || "{}");
    } catch (error) {
      texts = {};
    }
    var t = function (key, fallback) { return texts[key] || fallback; };
    var uploadUrl = textarea.dataset.uploadUrl || "";
    var previewUrl = textarea.dataset.previewUrl || "";
    var editor;

    function button(name, action, icon, title, stays) {
      // `stays`: usable while the preview is shown (EasyMDE greys the other buttons out then)
      return { name: name, action: action, className: "bi bi-" + icon, title: title, noDisable: !!stays };
    }

    var toolbar = [
      button("heading", window.EasyMDE.toggleHeadingSmaller, "type-h2", t("heading", "Heading")),
      button("bold", window.EasyMDE.toggleBold, "type-bold", t("bold", "Bold")),
      button("italic", window.EasyMDE.toggleItalic, "type-italic", t("italic", "Italic")),
      "|",
      button("unordered-list", window.EasyMDE.toggleUnorderedList, "list-ul", t("list", "List")),
      button("ordered-list", window.EasyMDE.toggleOrderedList, "list-ol", t("numbered", "Numbered list")),
      button("quote", window.EasyMDE.toggleBlockquote, "quote", t("quote", "Quote")),
      button("code", window.EasyMDE.toggleCodeBlock, "code", t("code", "Code")),
      button("table", window.EasyMDE.drawTable, "table", t("table", "Table")),
      button("link", window.EasyMDE.drawLink, "link-45deg", t("link", "Link")),
    ];
    if (uploadUrl) {
      toolbar.push(button("upload-image", window.EasyMDE.drawUploadedImage, "image", t("image", "Insert an image")));
    }
    toolbar.push("|");
    toolbar.push(button("preview", window.EasyMDE.togglePreview, "eye", t("preview", "Preview"), true));
    toolbar.push(button("side-by-side", window.EasyMDE.toggleSideBySide, "layout-split", t("side", "Side by side"), true));
    toolbar.push(button("guide", function () { window.open(textarea.dataset.guideUrl || "/help/markdown/", "_blank", "noopener"); },
      "question-circle", t("guide", "Markdown help"), true));

    function previewRender(plainText, preview) {
      if (!previewUrl) {
        return null;
      }
      var body = new FormData();
      body.append("body", plainText);
      post(previewUrl, body)
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) { preview.innerHTML = html; })  // sanitized by the server (nh3)
        .catch(function () { preview.textContent = t("previewFailed", "The preview could not be loaded."); });
      return t("loading", "Loading…");
    }

    function uploadImage(file, onSuccess, onError) {
      var body = new FormData();
      body.append("file", file, file.name || "image.png");
      post(uploadUrl, body)
        .then(function (response) {
          return response.json().then(function (data) { return { ok: response.ok, data: data }; });
        })
        .then(function (result) {
          if (!result.ok || !result.data.url) {
            var message = result.data && result.data.error ? result.data.error.message : "";
            onError(message || t("uploadFailed", "The image could not be uploaded."));
            return;
          }
          // Our attachment addresses have no file extension, so EasyMDE would insert a plain link: insert the
          // image ourselves.
          var cm = editor.codemirror;
          cm.replaceSelection("![" + markdownLabel(result.data.name || file.name) + "](" + result.data.url + ")");
          editor.updateStatusBar("upload-image", t("uploaded", "Image uploaded."));
          cm.focus();
        })
        .catch(function () { onError(t("uploadFailed", "The image could not be uploaded.")); });
    }

    var options = {
      element: textarea,
      autoDownloadFontAwesome: false,
      spellChecker: false,
      nativeSpellcheck: true,
      forceSync: true,
      status: uploadUrl ? ["upload-image", "lines", "words"] : ["lines", "words"],
      toolbar: toolbar,
      minHeight: "320px",
      previewRender: previewRender,
      previewClass: ["editor-preview", "sh-body"],
      promptURLs: false,
      imageAccept: IMAGE_TYPES,
      imageMaxSize: parseInt(textarea.dataset.maxImageBytes || "5242880", 10),
      imageTexts: {
        sbInit: t("sbInit", "Paste or drop an image to add it."),
        sbOnDragEnter: t("sbOnDragEnter", "Drop the image to upload it."),
        sbOnDrop: t("sbOnDrop", "Uploading #images_names#…"),
        sbProgress: t("sbProgress", "Uploading #file_name#: #progress#%"),
        sbOnUploaded: t("sbOnUploaded", "Uploaded #image_name#"),
      },
      errorMessages: {
        noFileGiven: t("noFileGiven", "Choose a file."),
        typeNotAllowed: t("typeNotAllowed", "Only PNG, JPEG, GIF and WebP images can be pasted."),
        fileTooLarge: t("fileTooLarge", "The image #image_name# is too large (#image_size#); at most #image_max_size#."),
        importError: t("importError", "The image #image_name# could not be uploaded."),
      },
      errorCallback: function (message) {
        var status = textarea.form && textarea.form.querySelector("[data-editor-error]");
        if (status) {
          status.textContent = message;
          status.classList.remove("d-none");
        }
      },
    };
    if (uploadUrl) {
      options.uploadImage = true;
      options.imageUploadFunction = uploadImage;
    }
    editor = new window.EasyMDE(options);
    textarea.sharehubEditor = editor;
    // CodeMirror types into a hidden textarea of its own: give it the form field's label for screen readers.
    var label = textarea.id && document.querySelector('label[for="' + textarea.id + '"]');
    editor.codemirror.getInputField().setAttribute("aria-label", label ? label.textContent.trim() : t("body", "Body"));
    textarea.form && textarea.form.addEventListener("submit", function () { editor.codemirror.save(); });
  }

  function startAll() {
    document.querySelectorAll("textarea[data-editor]").forEach(start);
  }

  // The template picker of a new article: choosing a template fills an untouched body with its skeleton.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches("select[data-template-bodies]")) {
      return;
    }
    var bodies = {};
    try {
      bodies = JSON.parse(document.getElementById(select.dataset.templateBodies).textContent);
    } catch (error) {
      return;
    }
    var textarea = document.querySelector("textarea[data-editor]");
    if (!textarea) {
      return;
    }
    var mde = textarea.sharehubEditor;
    var current = mde ? mde.value() : textarea.value;
    var untouched = !current.trim() || Object.keys(bodies).some(function (key) { return bodies[key] === current; });
    if (untouched) {
      if (mde) {
        mde.value(bodies[select.value] || "");
      } else {
        textarea.value = bodies[select.value] || "";
      }
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startAll);
  } else {
    startAll();
  }
})();
