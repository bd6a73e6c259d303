/* Vigie: embeds a territory's card (its AI uses and citizen concerns).
 * <script src="https://HUB/embed.js" data-territory="nantes-metropole" async></script>
 * Optional: data-height (pixels, default 460). */
(function () {
  "use strict";
  var scripts = document.querySelectorAll("script[data-territory]");
  Array.prototype.forEach.call(scripts, function (script) {
    if (script.getAttribute("data-vigie-done") || !/\/embed\.js(\?|#|$)/.test(script.src)) return;
    script.setAttribute("data-vigie-done", "1");
    var slug = script.getAttribute("data-territory");
    var frame = document.createElement("iframe");
    frame.src = new URL("/embed/territory/" + encodeURIComponent(slug), script.src).href;
    frame.title = "Usages de l'IA — " + slug + " (Vigie)";
    frame.loading = "lazy";
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.height = (parseInt(script.getAttribute("data-height"), 10) || 460) + "px";
    script.parentNode.insertBefore(frame, script.nextSibling);
  });
})();
