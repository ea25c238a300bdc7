package dev.possum.checks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import dev.possum.cdk.BundleSizeReport;
import dev.possum.cdk.DefaultExcludes;
import dev.possum.cdk.ICommandHooks;
import dev.possum.cdk.Installer;
import dev.possum.cdk.NestedZip;
import dev.possum.cdk.PackageSize;
import dev.possum.cdk.PythonPipfileBundlingOptions;
import dev.possum.cdk.PythonPipfileFunction;
import dev.possum.cdk.PythonPipfileLayerVersion;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.lambda.Runtime;

/**
 * Crosses the language boundary from Java: enums, static factories, an interface
 * implemented in Java and called back from the library, the size report, and errors.
 * Usage: Checks FUNCTION_FOLDER OUTDIR. Prints one line "POSSUM-CHECKS {json}", the same
 * as test/bindings/python/checks.py.
 */
public final class Checks {
    /** Writes a file into the dependency tree, so the bundle shows the hook ran. */
    static final class MarkerHooks implements ICommandHooks {
        @Override
        public List<String> beforeInstall(final String inputDir, final String outputDir) {
            return List.of();
        }

        @Override
        public List<String> afterInstall(final String inputDir, final String outputDir) {
            return List.of("echo \"hooked from java\" > \"" + outputDir + "/hook_marker.txt\"");
        }
    }

    private static Map<String, Object> errorOf(final Supplier<Object> build) {
        try {
            build.get();
        } catch (RuntimeException e) {
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("type", e.getClass().getSimpleName());
            error.put("message", e.getMessage());
            return error;
        }
        return null;
    }

    public static void main(final String[] args) {
        String functionFolder = args[0];
        App app = App.Builder.create().outdir(args[1]).build();
        Stack stack = new Stack(app, "Checks");

        PythonPipfileFunction fn = PythonPipfileFunction.Builder.create(stack, "Always")
                .entry(functionFolder)
                .runtime(Runtime.PYTHON_3_12)
                .bundling(PythonPipfileBundlingOptions.builder()
                        .installer(Installer.pip())
                        .nestedZip(NestedZip.ALWAYS)
                        .commandHooks(new MarkerHooks())
                        .build())
                .build();
        BundleSizeReport report = fn.getSizeReport();

        Map<String, Object> sizeReport = new LinkedHashMap<>();
        sizeReport.put("nested", report.getNested());
        sizeReport.put("files", report.getFiles().longValue());
        sizeReport.put("unzippedBytes", report.getUnzippedBytes().longValue());
        List<Map<String, Object>> largest = new ArrayList<>();
        for (PackageSize p : report.getLargestPackages()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", p.getName());
            entry.put("bytes", p.getBytes().longValue());
            largest.add(entry);
        }
        sizeReport.put("largestPackages", largest);
        sizeReport.put("sha256", report.getSha256());

        Map<String, Object> result = new LinkedHashMap<>();
        result.put("installers", List.of(Installer.pip().getName(), Installer.uv().getName()));
        result.put("defaultExcludesHasVenv", DefaultExcludes.FUNCTION_FILES.contains(".venv/"));
        result.put("nestedZipValues", List.of(NestedZip.AUTO.name(), NestedZip.ALWAYS.name(), NestedZip.NEVER.name()));
        result.put("sizeReport", sizeReport);
        result.put("fnNested", fn.getNested());
        result.put("badEntry", errorOf(() -> PythonPipfileFunction.Builder.create(stack, "Missing")
                .entry(functionFolder + "/no-such-folder").build()));
        result.put("layerAlways", errorOf(() -> PythonPipfileLayerVersion.Builder.create(stack, "Layer")
                .entry(functionFolder)
                .bundling(PythonPipfileBundlingOptions.builder().nestedZip(NestedZip.ALWAYS).build())
                .build()));
        result.put("badCompression", errorOf(() -> PythonPipfileFunction.Builder.create(stack, "Level")
                .entry(functionFolder)
                .bundling(PythonPipfileBundlingOptions.builder().compressionLevel(12).build())
                .build()));
        System.out.println("POSSUM-CHECKS " + toJson(result));
    }

    /** Just enough JSON for maps, lists, strings, numbers, booleans and null. */
    private static String toJson(final Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String) {
            String s = (String) value;
            StringBuilder out = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                if (c == '"' || c == '\\') {
                    out.append('\\').append(c);
                } else if (c < 0x20) {
                    out.append(String.format("\\u%04x", (int) c));
                } else {
                    out.append(c);
                }
            }
            return out.append('"').toString();
        }
        if (value instanceof Map) {
            return ((Map<?, ?>) value).entrySet().stream()
                    .map(e -> toJson(String.valueOf(e.getKey())) + ":" + toJson(e.getValue()))
                    .collect(Collectors.joining(",", "{", "}"));
        }
        if (value instanceof List) {
            return ((List<?>) value).stream().map(Checks::toJson).collect(Collectors.joining(",", "[", "]"));
        }
        return String.valueOf(value);
    }
}
