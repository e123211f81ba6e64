// Starts AWS's DynamoDB Local listening on one address only.
//
// DynamoDB Local's command line has no host option: its Jetty server listens
// on every interface. This launcher builds the server exactly as DynamoDB
// Local's own main does, sets the host on its connectors before they bind,
// and refuses to start when it cannot (a future release that builds its
// server differently), rather than listen where it must not.
//
// Usage: java -cp <DynamoDBLocal.jar and its libs>:<this class> StoreLauncher \
//          --host 127.0.0.1 <DynamoDB Local's own options: -port, -inMemory, ...>

import java.lang.reflect.Field;
import java.util.Arrays;
import org.eclipse.jetty.server.AbstractNetworkConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class StoreLauncher {
    private StoreLauncher() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !args[0].equals("--host")) {
            System.err.println("usage: StoreLauncher --host <address> <DynamoDB Local options>");
            System.exit(2);
        }
        String host = args[1];
        String[] storeOptions = Arrays.copyOfRange(args, 2, args.length);
        DynamoDBProxyServer store = ServerRunner.createServerFromCommandLineArgs(storeOptions);
        bind(jettyServerOf(store), host);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopQuietly(store)));
        store.start();
        System.out.println("store listening on " + host + " only");
        store.join();
    }

    private static Server jettyServerOf(DynamoDBProxyServer store) throws ReflectiveOperationException {
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        return (Server) field.get(store);
    }

    private static void bind(Server server, String host) {
        Connector[] connectors = server.getConnectors();
        if (connectors.length == 0) {
            throw new IllegalStateException("DynamoDB Local built no connector to bind to " + host);
        }
        for (Connector connector : connectors) {
            if (!(connector instanceof AbstractNetworkConnector)) {
                throw new IllegalStateException("cannot set the host of " + connector);
            }
            ((AbstractNetworkConnector) connector).setHost(host);
        }
    }

    // A clean stop closes the SQLite file of a persistent store.
    private static void stopQuietly(DynamoDBProxyServer store) {
        try {
            store.stop();
        } catch (Exception e) {
            System.err.println("store did not stop cleanly: " + e);
        }
    }
}
