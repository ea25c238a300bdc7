package dev.possum.examples;

import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import dev.possum.cdk.Installer;
import dev.possum.cdk.NestedZip;
import dev.possum.cdk.PythonPipfileBundlingOptions;
import dev.possum.cdk.PythonPipfileFunction;
import dev.possum.cdk.PythonPipfileLayerVersion;
import dev.possum.cdk.SamTemplatePackager;
import software.amazon.awscdk.App;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.CfnResource;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.lambda.Architecture;
import software.amazon.awscdk.services.lambda.Runtime;

/** The example app, in Java: the same app as examples/typescript/app.ts and examples/python/app.py. */
public final class PossumExampleApp {
    /** A path under examples/ (cdk runs the app in examples/java). */
    private static String example(final String... parts) {
        return Paths.get("..", parts).toAbsolutePath().normalize().toString();
    }

    public static void main(final String[] args) {
        App app = new App();
        Stack stack = new Stack(app, "PossumExample");

        // A layer of shared dependencies, installed from its requirements.txt.
        PythonPipfileLayerVersion shared = PythonPipfileLayerVersion.Builder.create(stack, "SharedDeps")
                .entry(example("layers", "shared"))
                .runtime(Runtime.PYTHON_3_12)
                .compatibleArchitectures(List.of(Architecture.ARM_64))
                .build();

        // A function whose folder has a Pipfile and a Pipfile.lock.
        PythonPipfileFunction hello = PythonPipfileFunction.Builder.create(stack, "Hello")
                .entry(example("functions", "hello"))
                .runtime(Runtime.PYTHON_3_12)
                .architecture(Architecture.ARM_64)
                .layers(List.of(shared))
                .bundling(PythonPipfileBundlingOptions.builder()
                        .installer(Installer.pip())
                        // The runtime ships boto3; leave it out of the bundle.
                        .excludeRuntimePackages(true)
                        // Nested zip only if the bundle would pass Lambda's 250 MB limit.
                        .nestedZip(NestedZip.AUTO)
                        .build())
                .build();

        // An existing SAM application, included as it is: both of its Python functions are packaged.
        SamTemplatePackager samApp = SamTemplatePackager.Builder.create(stack, "SamApp")
                .templateFile(example("sam-app", "template.yaml"))
                .parameters(Map.of("Stage", "prod"))
                .build();

        // The included resources are CDK objects: grow the app around them.
        CfnResource orders = samApp.getFunction("OrdersFunction");
        hello.addEnvironment("ORDERS_FUNCTION", orders.getRef());

        // Known when this synth bundles the stack (not for `cdk ls`, for example).
        if (hello.getSizeReport() != null) {
            CfnOutput.Builder.create(stack, "HelloBundleBytes")
                    .value(String.valueOf(hello.getSizeReport().getUnzippedBytes().longValue())).build();
            CfnOutput.Builder.create(stack, "HelloNested")
                    .value(String.valueOf(hello.getSizeReport().getNested())).build();
        }

        app.synth();
    }
}
